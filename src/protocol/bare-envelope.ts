/**
 * The bare-WebSocket envelope: the small JSON protocol a plain `new WebSocket(url)` speaks
 * to a Switchboard server (README, "Bare WebSocket"). One JSON object per text frame:
 *
 * ```
 *  client -> server                                   server -> client
 *  {"connect":"/chat","auth":{...}}                   {"connected":"/chat","id":"<socket id>"}
 *                                                     {"connect_error":"/chat","message":"...","data":...}
 *  {"event":"msg","args":[...],"ack":7,"nsp":"/chat"} {"event":"msg","args":[...],"ack":3,"nsp":"/chat"}
 *  {"ack":3,"args":[...],"nsp":"/chat"}               {"ack":7,"args":[...],"nsp":"/chat"}
 *  {"disconnect":"/chat"}                             {"disconnect":"/chat"}
 *                                                     {"error":{"code":"SB_ERR_...","message":"..."}}
 * ```
 * `nsp` defaults to `"/"`, `args` to `[]`; `ack` on an event asks for an answer, `ack`
 * without `event` is one. Binary values travel as `{"$binary":"<base64>"}` both ways.
 *
 * This module only converts between envelopes and Socket.IO packets ({@link SocketPacket});
 * the server feeds the packets to the same namespaces, middleware and handlers as any other.
 */
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { isBinary } from "./binary.js";
import { decodeJson } from "./json.js";
import {
  MAX_ACK_ID,
  RESERVED_EVENTS,
  type SocketPacket,
  SocketPacketType,
} from "./socket-packet.js";

/** The key of an object standing for binary data in an envelope. */
export const BINARY_KEY = "$binary";

/**
 * Reads one text frame from a bare-WebSocket client as a Socket.IO packet (CONNECT, EVENT,
 * ACK or DISCONNECT). Anything else, or a malformed field, is a ProtocolError naming it.
 */
export function decodeBareFrame(
  text: string,
  maxDepth: number,
  wrapBinary: (bytes: Uint8Array) => unknown = identity,
): Result<SocketPacket, ProtocolError> {
  const fromEnvelope = (value: unknown): unknown => readBinaries(value, wrapBinary);
  const parsed = decodeJson(text, 0, maxDepth);
  if (!parsed.ok) return parsed;
  const frame = parsed.value;
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
    return invalid("a frame must be a JSON object");
  }
  const fields = frame as Record<string, unknown>;
  if ("connect" in fields) {
    const nsp = namespace(fields.connect);
    if (nsp === undefined) return badNamespace(fields.connect);
    const auth = fields.auth ?? undefined;
    if (auth !== undefined && (typeof auth !== "object" || auth === null || Array.isArray(auth))) {
      return invalid('"auth" must be an object');
    }
    return ok({ type: SocketPacketType.CONNECT, nsp, data: auth && fromEnvelope(auth) });
  }
  if ("disconnect" in fields) {
    const nsp = namespace(fields.disconnect);
    return nsp === undefined ? badNamespace(fields.disconnect) : ok({ type: 1, nsp });
  }
  const nsp = fields.nsp === undefined ? "/" : namespace(fields.nsp);
  if (nsp === undefined) return badNamespace(fields.nsp);
  const args = fields.args ?? [];
  if (!Array.isArray(args)) return invalid('"args" must be an array');
  const id = fields.ack;
  if (
    id !== undefined &&
    !(Number.isInteger(id) && (id as number) >= 0 && (id as number) <= MAX_ACK_ID)
  ) {
    return fail(ErrorCode.INVALID_ACK_ID, '"ack" must be a non-negative integer');
  }
  const data = fromEnvelope(args) as unknown[];
  if ("event" in fields) {
    const event = fields.event;
    if (typeof event !== "string") return invalid('"event" must be a string');
    if (RESERVED_EVENTS.has(event)) return invalid(`"${event}" is a reserved event name`);
    return ok({
      type: SocketPacketType.EVENT,
      nsp,
      data: [event, ...data],
      id: id as number | undefined,
    });
  }
  if (id === undefined) return invalid('a frame needs "event", "ack", "connect" or "disconnect"');
  return ok({ type: SocketPacketType.ACK, nsp, data, id: id as number });
}

/**
 * Writes a Socket.IO packet the server sends as one envelope. `offsets`: the namespace sends
 * connection-state-recovery offsets (its CONNECT answer had a `pid`), so an EVENT without
 * an ack id carries one as its last argument, which a bare client has no use for: dropped.
 */
export function encodeBareFrame(packet: SocketPacket, offsets: boolean): string {
  const nsp = packet.nsp === "/" ? undefined : packet.nsp;
  switch (packet.type) {
    case SocketPacketType.CONNECT: {
      const sid = (packet.data as { sid?: unknown } | undefined)?.sid;
      return JSON.stringify({ connected: packet.nsp, id: sid });
    }
    case SocketPacketType.CONNECT_ERROR: {
      const error = (packet.data ?? {}) as { message?: unknown; data?: unknown };
      return stringify({ connect_error: packet.nsp, message: error.message, data: error.data });
    }
    case SocketPacketType.DISCONNECT:
      return JSON.stringify({ disconnect: packet.nsp });
    case SocketPacketType.EVENT:
    case SocketPacketType.BINARY_EVENT: {
      const [event, ...args] = packet.data as unknown[];
      if (offsets && packet.id === undefined && typeof args[args.length - 1] === "string")
        args.pop();
      return stringify({ event, args, ack: packet.id, nsp });
    }
    default:
      return stringify({ ack: packet.id, args: packet.data, nsp });
  }
}

/** An error frame: what was wrong, before the server closes the connection. */
export function encodeBareError(error: ProtocolError): string {
  return JSON.stringify({ error: { code: error.code, message: error.message } });
}

function stringify(envelope: object): string {
  return JSON.stringify(toEnvelope(envelope));
}

/** Binary values as `{"$binary": base64}`, walking only values that hold some. */
function toEnvelope(value: unknown): unknown {
  if (isBinary(value) && !(value instanceof Blob)) {
    const bytes = ArrayBuffer.isView(value)
      ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      : new Uint8Array(value as ArrayBuffer);
    return { [BINARY_KEY]: encodeBase64(bytes) };
  }
  if (Array.isArray(value)) return value.map(toEnvelope);
  if (typeof value === "object" && value !== null && !hasToJson(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) out[key] = toEnvelope(field);
    return out;
  }
  return value;
}

/** `{"$binary": base64}` objects back to bytes (invalid base64 stays as it is). */
function readBinaries(value: unknown, wrap: (bytes: Uint8Array) => unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => readBinaries(item, wrap));
  if (typeof value !== "object" || value === null) return value;
  const fields = value as Record<string, unknown>;
  const base64 = fields[BINARY_KEY];
  if (typeof base64 === "string" && Object.keys(fields).length === 1) {
    const bytes = decodeBase64(base64);
    if (bytes.ok) return wrap(bytes.value);
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) out[key] = readBinaries(field, wrap);
  return out;
}

function identity(bytes: Uint8Array): unknown {
  return bytes;
}

function hasToJson(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === "function";
}

function namespace(value: unknown): string | undefined {
  return typeof value === "string" && value.startsWith("/") ? value : undefined;
}

function badNamespace(value: unknown): { ok: false; error: ProtocolError } {
  return fail(
    ErrorCode.INVALID_NAMESPACE,
    `not a namespace: ${JSON.stringify(value) ?? "undefined"}`,
  );
}

function invalid(message: string): { ok: false; error: ProtocolError } {
  return fail(ErrorCode.INVALID_PAYLOAD, message);
}
