/**
 * Socket.IO v5 packets (socket.io-protocol v5 §packet-encoding):
 * `<type>[<attachments>-][<nsp>,][<ackId>][json]`, with binary attachments sent as separate
 * Engine.IO messages after the text header and referenced by `{"_placeholder":true,"num":N}`.
 *
 * Decoding one connection's messages is a small state machine:
 *
 * ```
 *            text header, no attachments -> packet
 *   +------+ --------------------------------------+
 *   | idle | <-------------------------------------+
 *   +------+ --- text header "5N-..." or "6N-..." ---> +----------+
 *      ^                                               | awaiting |  binary chunk k < N
 *      |          N-th binary chunk -> packet          | N chunks | <-----+
 *      +---------------------------------------------- +----------+ ------+
 *   any ProtocolError (or reset()) returns to idle; the caller then closes the connection
 * ```
 *
 * Like socket.io-parser, a decoded BINARY_EVENT/BINARY_ACK is handed out as EVENT/ACK with
 * its binaries back in place, and the encoder picks the binary types by itself.
 */
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";
import {
  type BinaryData,
  deconstructData,
  hasBinary,
  isBinary,
  reconstructData,
} from "./binary.js";
import type { RawData } from "./engine-packet.js";
import { decodeJson, exceedsJsonDepth } from "./json.js";

export { hasBinary };

/** Socket.IO packet types and their wire numbers (socket.io-protocol v5 §packet-types). */
export const SocketPacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

/** A Socket.IO packet type number. */
export type SocketPacketTypeValue = (typeof SocketPacketType)[keyof typeof SocketPacketType];

/** One decoded Socket.IO packet. Binary attachments are already put back in `data`. */
export interface SocketPacket {
  readonly type: SocketPacketTypeValue;
  /** Namespace, `"/"` when absent on the wire. */
  readonly nsp: string;
  /** JSON payload with binaries restored: CONNECT auth object, EVENT/ACK argument array, CONNECT_ERROR object. */
  readonly data?: unknown;
  /** Acknowledgement id, when the packet asks for (EVENT) or answers (ACK) one. */
  readonly id?: number | undefined;
}

/** Limits applied while decoding untrusted packets. */
export interface SocketDecoderLimits {
  /** Most binary attachments one packet may announce. Default 10. */
  readonly maxAttachments?: number;
  /** Deepest nesting of arrays/objects in a payload. Default 32. */
  readonly maxDepth?: number;
}

/**
 * Event names a peer may not send, because both ends use them for their own lifecycle
 * (as in socket.io-parser). An EVENT carrying one is rejected as `INVALID_PAYLOAD`.
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

/**
 * Switchboard addition: the query parameter of an Engine.IO handshake URL naming a namespace
 * the client joins in the handshake (`?EIO=4&transport=websocket&sb_connect=/`), and the open
 * packet field the server confirms it with (`"sb_connect":"/"`). The server then handles it
 * as a CONNECT packet without auth, and the client sends none: one round trip less. A server
 * that does not know it ignores the parameter and sends no such field, and the client
 * sends its CONNECT packet as usual.
 */
export const HANDSHAKE_CONNECT = "sb_connect";

/** Largest acknowledgement id accepted or produced: ids stay exact JavaScript integers. */
export const MAX_ACK_ID = Number.MAX_SAFE_INTEGER;

const DEFAULT_MAX_ATTACHMENTS = 10;
const DEFAULT_MAX_DEPTH = 32;

const CHAR_0 = 0x30;
const CHAR_2 = 0x32;
const CHAR_3 = 0x33;
const CHAR_9 = 0x39;
const CHAR_SLASH = 0x2f;
const CHAR_COMMA = 0x2c;
const CHAR_DASH = 0x2d;
const CHAR_QUOTE = 0x22;
const CHAR_OPEN_BRACKET = 0x5b;
const CHAR_OPEN_BRACE = 0x7b;

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/**
 * Encodes a packet: the text header first, then each binary attachment in order. EVENT/ACK
 * whose data contains binary (Uint8Array, ArrayBuffer, any ArrayBuffer view, Blob) become
 * BINARY_EVENT/BINARY_ACK automatically with placeholders `{"_placeholder":true,"num":N}`;
 * BINARY_EVENT/BINARY_ACK without binary are sent as EVENT/ACK.
 *
 * Throws a `TypeError` (programmer error) for a namespace that does not start with `/` or
 * contains a comma, an ack id that is not an integer in `0..MAX_ACK_ID`, or a Blob
 * attachment (read it first with `await blob.arrayBuffer()`: encoding is synchronous).
 *
 * @example
 * encodeSocketPacket({ type: SocketPacketType.EVENT, nsp: "/", data: ["hi", 1] });
 * // => ['2["hi",1]']
 */
export function encodeSocketPacket(packet: SocketPacket): RawData[] {
  const { type, nsp, id, data } = packet;
  const isEventLike = type === SocketPacketType.EVENT || type === SocketPacketType.BINARY_EVENT;
  const isAckLike = type === SocketPacketType.ACK || type === SocketPacketType.BINARY_ACK;
  if ((isEventLike || isAckLike) && hasBinary(data)) {
    const binaryType = isEventLike ? SocketPacketType.BINARY_EVENT : SocketPacketType.BINARY_ACK;
    return encodeWithAttachments(binaryType, nsp, id, data);
  }
  // hot path: no binary, so one JSON.stringify and string concatenation.
  const plainType = isEventLike ? SocketPacketType.EVENT : isAckLike ? SocketPacketType.ACK : type;
  const header = encodeHeader(plainType, 0, nsp, id);
  return [data == null ? header : header + JSON.stringify(data)];
}

function encodeWithAttachments(
  type: SocketPacketTypeValue,
  nsp: string,
  id: number | undefined,
  data: unknown,
): RawData[] {
  const deconstructed = deconstructData(data);
  const attachments = deconstructed.attachments;
  const out: RawData[] = [
    encodeHeader(type, attachments.length, nsp, id) + JSON.stringify(deconstructed.data),
  ];
  for (const attachment of attachments) out.push(toBytes(attachment));
  return out;
}

/** Returns attachment bytes without copying: a Uint8Array (or Buffer) is passed through. */
function toBytes(binary: BinaryData): Uint8Array {
  if (binary instanceof Uint8Array) return binary;
  if (binary instanceof ArrayBuffer) return new Uint8Array(binary);
  if (ArrayBuffer.isView(binary)) {
    return new Uint8Array(binary.buffer, binary.byteOffset, binary.byteLength);
  }
  throw new TypeError(
    "cannot encode a Blob attachment synchronously: pass its bytes (await blob.arrayBuffer())",
  );
}

function encodeHeader(
  type: SocketPacketTypeValue,
  attachments: number,
  nsp: string,
  id: number | undefined | null,
): string {
  let out = attachments > 0 ? `${type}${attachments}-` : `${type}`;
  if (nsp !== "/" && nsp !== "") {
    if (nsp.charCodeAt(0) !== CHAR_SLASH || nsp.includes(",")) {
      throw new TypeError(
        `cannot encode packet: namespace ${JSON.stringify(nsp)} must start with "/" and contain no ","`,
      );
    }
    out += `${nsp},`;
  }
  if (id != null) {
    if (!Number.isSafeInteger(id) || id < 0) {
      throw new TypeError(
        `cannot encode packet: ack id ${id} is not an integer in 0..${MAX_ACK_ID}`,
      );
    }
    out += id;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/** The text header of a packet, up to where its JSON starts. */
interface Header {
  readonly type: SocketPacketTypeValue;
  readonly attachments: number;
  readonly nsp: string;
  readonly id: number | undefined;
  readonly dataStart: number;
}

/** A binary packet whose header arrived and whose attachments are still coming. */
interface PendingPacket {
  readonly type: SocketPacketTypeValue;
  readonly nsp: string;
  readonly id: number | undefined;
  readonly data: unknown;
  readonly expected: number;
  readonly received: unknown[];
}

/**
 * Stateful decoder for one connection: feed each Engine.IO message in order.
 *
 * @example
 * const decoder = new SocketPacketDecoder({ maxAttachments: 4 });
 * const result = decoder.add('2["hi"]');
 * if (!result.ok) closeConnection(result.error);
 * else if (result.value) dispatch(result.value);
 */
export class SocketPacketDecoder {
  readonly #maxAttachments: number;
  readonly #maxDepth: number;
  #pending: PendingPacket | undefined;

  constructor(limits: SocketDecoderLimits = {}) {
    this.#maxAttachments = limits.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS;
    this.#maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /**
   * ok(packet) when a packet is complete, ok(undefined) while waiting for attachments, or a
   * ProtocolError (after which the decoder is reset and the caller closes the connection).
   */
  add(chunk: RawData | BinaryData): Result<SocketPacket | undefined, ProtocolError> {
    const result =
      typeof chunk === "string"
        ? this.#addText(chunk)
        : isBinary(chunk)
          ? this.#addAttachment(chunk)
          : fail(ErrorCode.INVALID_PACKET, `unsupported chunk type ${typeof chunk}`);
    if (!result.ok) this.reset();
    return result;
  }

  /** Discards a partially received binary packet. */
  reset(): void {
    this.#pending = undefined;
  }

  #addText(text: string): Result<SocketPacket | undefined, ProtocolError> {
    if (this.#pending !== undefined) {
      const { expected, received } = this.#pending;
      return fail(
        ErrorCode.EXPECTED_ATTACHMENT,
        `got a text packet while awaiting attachment ${received.length + 1} of ${expected}`,
      );
    }
    const common = decodeCommonPacket(text, this.#maxDepth);
    if (common !== undefined) return ok(common);
    const header = decodeHeader(text, this.#maxAttachments);
    if (!header.ok) return header;
    const { type, attachments, nsp, id, dataStart } = header.value;
    const data = decodeJson(text, dataStart, this.#maxDepth);
    if (!data.ok) return data;
    const invalid = validatePacket(type, data.value, id);
    if (invalid !== undefined) return { ok: false, error: invalid };
    if (attachments === 0) return ok(makePacket(type, nsp, data.value, id));
    const plainType =
      type === SocketPacketType.BINARY_EVENT ? SocketPacketType.EVENT : SocketPacketType.ACK;
    this.#pending = {
      type: plainType,
      nsp,
      id,
      data: data.value,
      expected: attachments,
      received: [],
    };
    return ok(undefined);
  }

  #addAttachment(chunk: BinaryData): Result<SocketPacket | undefined, ProtocolError> {
    const pending = this.#pending;
    if (pending === undefined) {
      return fail(
        ErrorCode.UNEXPECTED_ATTACHMENT,
        "got a binary message while no attachment was awaited",
      );
    }
    pending.received.push(chunk);
    if (pending.received.length < pending.expected) return ok(undefined);
    this.#pending = undefined;
    const data = reconstructData(pending.data, pending.received);
    if (!data.ok) return data;
    return ok(makePacket(pending.type, pending.nsp, data.value, pending.id));
  }
}

/**
 * The data of a packet that {@link encodeSocketPacket} encoded as one string (an EVENT or
 * ACK without attachments: `<type>[<nsp>,][<ackId>][...]`), for callers that kept the text
 * in place of the data. Parsed without a decoder's limits: it is our own output, not input.
 *
 * @example
 * encodedPacketData('3/admin,12["ok"]'); // => ["ok"]
 */
export function encodedPacketData(text: string): unknown {
  // A namespace other than "/" ends with a comma, and never contains one.
  let i = text.charCodeAt(1) === CHAR_SLASH ? text.indexOf(",", 1) + 1 : 1;
  while (isDigit(text.charCodeAt(i))) i++;
  return JSON.parse(text.slice(i));
}

/**
 * Decodes one text packet that carries no binary attachments, without a decoder object:
 * what {@link SocketPacketDecoder.add} does for such a packet, for callers that keep no
 * decoder until a binary packet shows up. A BINARY_EVENT/BINARY_ACK header is refused
 * (`INVALID_PACKET`): its attachments need a {@link SocketPacketDecoder}.
 */
export function decodeSocketPacket(
  text: string,
  limits: SocketDecoderLimits = {},
): Result<SocketPacket, ProtocolError> {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const common = decodeCommonPacket(text, maxDepth);
  if (common !== undefined) return ok(common);
  const header = decodeHeader(text, limits.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS);
  if (!header.ok) return header;
  const { type, attachments, nsp, id, dataStart } = header.value;
  if (attachments > 0) {
    return fail(ErrorCode.INVALID_PACKET, "a binary packet needs a SocketPacketDecoder");
  }
  const data = decodeJson(text, dataStart, maxDepth);
  if (!data.ok) return data;
  const invalid = validatePacket(type, data.value, id);
  if (invalid !== undefined) return { ok: false, error: invalid };
  return ok(makePacket(type, nsp, data.value, id));
}

/**
 * hot path: an EVENT or ACK on the main namespace without attachments (`2[...]`,
 * `2<id>[...]`, `3<id>[...]`), the shape of nearly every packet, decoded with one pass over
 * the ack id and one `JSON.parse`. Anything else, valid or not, gives undefined: the general
 * path then decodes it, or reports exactly what is wrong.
 */
function decodeCommonPacket(text: string, maxDepth: number): SocketPacket | undefined {
  const typeChar = text.charCodeAt(0);
  if (typeChar !== CHAR_2 && typeChar !== CHAR_3) return undefined;
  // At most 15 digits: always a safe integer, so no range check is needed here.
  const idEnd = Math.min(text.length, 16);
  let i = 1;
  let id = 0;
  for (; i < idEnd; i++) {
    const c = text.charCodeAt(i);
    if (c < CHAR_0 || c > CHAR_9) break;
    id = id * 10 + (c - CHAR_0);
  }
  const hasId = i > 1;
  if (text.charCodeAt(i) !== CHAR_OPEN_BRACKET || (typeChar === CHAR_3 && !hasId)) return undefined;
  if (exceedsJsonDepth(text, i, maxDepth)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text.slice(i));
  } catch {
    return undefined;
  }
  if (!Array.isArray(data)) return undefined;
  if (typeChar === CHAR_2) {
    const name = data[0];
    if (typeof name !== "string" || RESERVED_EVENTS.has(name)) return undefined;
    return hasId
      ? { type: SocketPacketType.EVENT, nsp: "/", data, id }
      : { type: SocketPacketType.EVENT, nsp: "/", data };
  }
  return { type: SocketPacketType.ACK, nsp: "/", data, id };
}

function makePacket(
  type: SocketPacketTypeValue,
  nsp: string,
  data: unknown,
  id: number | undefined,
): SocketPacket {
  const packet: { type: SocketPacketTypeValue; nsp: string; data?: unknown; id?: number } = {
    type,
    nsp,
  };
  if (data !== undefined) packet.data = data;
  if (id !== undefined) packet.id = id;
  return packet;
}

function isDigit(code: number): boolean {
  return code >= CHAR_0 && code <= CHAR_9;
}

/** Parses `<type>[<attachments>-][<nsp>,][<ackId>]` and finds where the JSON starts. */
function decodeHeader(text: string, maxAttachments: number): Result<Header, ProtocolError> {
  if (text.length === 0) return fail(ErrorCode.INVALID_PACKET, "empty packet");
  const typeCode = text.charCodeAt(0) - CHAR_0;
  if (typeCode < 0 || typeCode > 6) {
    return fail(ErrorCode.INVALID_PACKET, `unknown packet type ${JSON.stringify(text[0])}`);
  }
  const type = typeCode as SocketPacketTypeValue;
  let i = 1;
  let attachments = 0;
  if (type === SocketPacketType.BINARY_EVENT || type === SocketPacketType.BINARY_ACK) {
    const count = readAttachmentCount(text, maxAttachments);
    if (!count.ok) return count;
    attachments = count.value;
    i = text.indexOf("-", 1) + 1;
  }
  let nsp = "/";
  // (Bounded: reading past the end, as for a bare "0" CONNECT or "1" DISCONNECT, would make
  // V8 throw away the optimised decoder once per process.)
  const hasNsp = i < text.length && text.charCodeAt(i) === CHAR_SLASH;
  if (hasNsp) {
    const comma = text.indexOf(",", i);
    const end = comma === -1 ? text.length : comma;
    nsp = text.slice(i, end);
    i = comma === -1 ? end : end + 1;
  }
  const id = readAckId(text, i, hasNsp);
  if (!id.ok) return id;
  return ok({ type, attachments, nsp, id: id.value.id, dataStart: id.value.end });
}

/** Reads the `<attachments>-` count of a binary packet (socket.io-parser: at least 1). */
function readAttachmentCount(text: string, maxAttachments: number): Result<number, ProtocolError> {
  let i = 1;
  while (i < text.length && isDigit(text.charCodeAt(i))) i++;
  if (i === 1 || text.charCodeAt(i) !== CHAR_DASH) {
    return fail(ErrorCode.INVALID_PACKET, "binary packet without a valid attachment count");
  }
  const count = Number(text.slice(1, i));
  if (count < 1) return fail(ErrorCode.INVALID_PACKET, "binary packet announces no attachment");
  if (count > maxAttachments) {
    return fail(
      ErrorCode.TOO_MANY_ATTACHMENTS,
      `packet announces ${text.slice(1, i)} attachments, more than the limit of ${maxAttachments}`,
    );
  }
  return ok(count);
}

/**
 * Reads the optional ack id: everything between the namespace and the JSON (which starts
 * with `[`, `{` or `"`) must be decimal digits. A comma there without a namespace means a
 * namespace that does not start with "/".
 */
function readAckId(
  text: string,
  start: number,
  hasNsp: boolean,
): Result<{ id: number | undefined; end: number }, ProtocolError> {
  let end = start;
  let digitsOnly = true;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    if (c === CHAR_OPEN_BRACKET || c === CHAR_OPEN_BRACE || c === CHAR_QUOTE) break;
    if (c === CHAR_COMMA && !hasNsp) {
      return fail(ErrorCode.INVALID_NAMESPACE, 'namespace must start with "/"');
    }
    if (!isDigit(c)) digitsOnly = false;
  }
  if (end === start) return ok({ id: undefined, end });
  const digits = text.slice(start, end);
  if (!digitsOnly || digits.length > 16 || Number(digits) > MAX_ACK_ID) {
    const shown = digits.length > 20 ? `${digits.slice(0, 20)}...` : digits;
    return fail(
      ErrorCode.INVALID_ACK_ID,
      `ack id ${JSON.stringify(shown)} is not an integer in 0..${MAX_ACK_ID}`,
    );
  }
  return ok({ id: Number(digits), end });
}

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks the payload shape each packet type allows (socket.io-parser `isPayloadValid`). */
function validatePacket(
  type: SocketPacketTypeValue,
  data: unknown,
  id: number | undefined,
): ProtocolError | undefined {
  const problem = payloadProblem(type, data);
  if (problem !== undefined) return fail(ErrorCode.INVALID_PAYLOAD, problem).error;
  const isAck = type === SocketPacketType.ACK || type === SocketPacketType.BINARY_ACK;
  if (isAck && id === undefined)
    return fail(ErrorCode.INVALID_ACK_ID, "ACK without an ack id").error;
  return undefined;
}

function payloadProblem(type: SocketPacketTypeValue, data: unknown): string | undefined {
  switch (type) {
    case SocketPacketType.CONNECT:
      return data === undefined || isPlainObject(data)
        ? undefined
        : "CONNECT data must be an object";
    case SocketPacketType.DISCONNECT:
      return data === undefined ? undefined : "DISCONNECT carries no data";
    case SocketPacketType.EVENT:
    case SocketPacketType.BINARY_EVENT:
      if (!Array.isArray(data) || data.length === 0) return "EVENT data must be a non-empty array";
      if (typeof data[0] !== "string") return "EVENT name must be a string";
      return RESERVED_EVENTS.has(data[0]) ? `event name "${data[0]}" is reserved` : undefined;
    case SocketPacketType.ACK:
    case SocketPacketType.BINARY_ACK:
      return Array.isArray(data) ? undefined : "ACK data must be an array";
    case SocketPacketType.CONNECT_ERROR:
      return typeof data === "string" || isPlainObject(data)
        ? undefined
        : "CONNECT_ERROR data must be a string or an object";
  }
}
