/**
 * What the Redis Streams mode writes to Redis, and how it reads it back.
 *
 * Every cluster message a node sends to all the others (broadcasts, requests, heartbeats)
 * is one stream entry, so the other nodes see them in one order; responses go through
 * pub/sub. A broadcast the recovery store keeps is marked `stored`, and its entry id is the
 * offset clients hold:
 * ```
 *   XADD <stream> MAXLEN ~ <maxLen> * uid <node> nsp <nsp> type <n> data <MessagePack data> [stored 1 [local 1]]
 * ```
 * `type` and `data` are the cluster message's (`data` of a BROADCAST is `{ packet, opts }`);
 * `local 1` marks a stored broadcast only its own node delivers (kept for that node's
 * clients' recovery). An entry of `type 0` is a marker that gives an empty stream an id to
 * start from. A disconnected socket's session is one MessagePack value
 * (`session-codec.ts`) under `<prefix><pid>`, expiring after `maxDisconnectionDuration`.
 *
 * Everything read back comes from the network: decoders return a {@link Result} or
 * undefined, never throw.
 */
import { Buffer } from "node:buffer";
import {
  type ClusterMessage,
  ClusterMessageType,
  isRecord,
  parseClusterMessage,
  parseWireOptions,
  parseWirePacket,
  type WireOptions,
  type WirePacket,
} from "../adapter/cluster-message.js";
import { decodeMsgpack, encodeMsgpack } from "../adapter/msgpack.js";
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";

/** The `type` of a marker entry. */
export const MARKER_TYPE = "0";
const BROADCAST_TYPE = String(ClusterMessageType.BROADCAST);
const MAX_DEPTH = 100;
const STREAM_ID = /^\d{1,15}-\d{1,15}$/; // both parts stay exact as numbers

/** A stream entry as read: its id and its raw fields. */
export interface RawStreamEntry {
  readonly id: string;
  readonly fields: ReadonlyMap<string, Buffer>;
}

/** A stored broadcast read back from the stream. */
export interface StreamBroadcast {
  readonly id: string;
  /** The node that stored it. */
  readonly uid: string;
  readonly nsp: string;
  /** Only the storing node delivers it (a `local` broadcast). */
  readonly isLocal: boolean;
  readonly packet: WirePacket;
  readonly opts: WireOptions;
}

/** A stream entry, decoded. */
export type StreamEntry =
  | { readonly kind: "marker" }
  | { readonly kind: "stored"; readonly broadcast: StreamBroadcast }
  | { readonly kind: "message"; readonly message: ClusterMessage };

/** The XADD field arguments of a cluster message (not a response). */
export function encodeMessageFields(message: ClusterMessage): (string | Buffer)[] {
  const data = toBuffer(encodeMsgpack(message.data));
  return ["uid", message.uid, "nsp", message.nsp, "type", String(message.type), "data", data];
}

/** The XADD field arguments of a stored broadcast. */
export function encodeStoredFields(
  uid: string,
  nsp: string,
  packet: WirePacket,
  opts: WireOptions,
  isLocal: boolean,
): (string | Buffer)[] {
  const data = toBuffer(encodeMsgpack({ packet, opts }));
  const fields: (string | Buffer)[] = [
    "uid",
    uid,
    "nsp",
    nsp,
    "type",
    BROADCAST_TYPE,
    "data",
    data,
  ];
  fields.push("stored", "1");
  if (isLocal) fields.push("local", "1");
  return fields;
}

/** True when an entry is a stored broadcast (without decoding its data). */
export function isStoredEntry(entry: RawStreamEntry): boolean {
  return entry.fields.get("stored")?.toString() === "1";
}

/** Decodes an entry: a marker, a stored broadcast, or another cluster message. */
export function decodeStreamEntry(entry: RawStreamEntry): Result<StreamEntry, ProtocolError> {
  const { fields } = entry;
  const type = fields.get("type")?.toString();
  if (type === MARKER_TYPE) return ok({ kind: "marker" });
  const uid = fields.get("uid")?.toString();
  const nsp = fields.get("nsp")?.toString();
  const bytes = fields.get("data");
  if (uid === undefined || nsp === undefined || bytes === undefined || type === undefined) {
    return invalid(`stream entry ${entry.id} lacks uid, nsp, type or data`);
  }
  const decoded = decodeMsgpack(bytes, { maxDepth: MAX_DEPTH });
  if (!decoded.ok) return decoded;
  if (!isStoredEntry(entry)) {
    const message = parseClusterMessage({ uid, nsp, type: Number(type), data: decoded.value });
    return message.ok ? ok({ kind: "message", message: message.value }) : message;
  }
  const body = decoded.value;
  const packet = isRecord(body) ? parseWirePacket(body.packet) : undefined;
  const opts = isRecord(body) ? parseWireOptions(body.opts) : undefined;
  if (type !== BROADCAST_TYPE || packet === undefined || opts === undefined) {
    return invalid(`stream entry ${entry.id} holds a malformed broadcast`);
  }
  const isLocal = fields.get("local")?.toString() === "1";
  return ok({ kind: "stored", broadcast: { id: entry.id, uid, nsp, isLocal, packet, opts } });
}

/** True for a stream entry id (`<ms>-<seq>`). */
export function isStreamId(value: unknown): value is string {
  return typeof value === "string" && STREAM_ID.test(value);
}

/** Orders two stream ids: negative, zero or positive, as `a` is before, at or after `b`. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  return aMs === bMs ? aSeq - bSeq : aMs - bMs;
}

function splitId(id: string): [number, number] {
  const dash = id.indexOf("-");
  return [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/**
 * The entries of an XREAD reply for one stream. RESP2 replies are `[[name, entries]]`,
 * RESP3 ones a map from name to entries (a `Map` or a plain object, by client settings).
 */
export function parseXReadReply(reply: unknown): RawStreamEntry[] {
  if (reply === null || reply === undefined) return [];
  let entries: unknown;
  if (Array.isArray(reply)) entries = Array.isArray(reply[0]) ? reply[0][1] : undefined;
  else if (reply instanceof Map) entries = reply.values().next().value;
  else if (typeof reply === "object") entries = Object.values(reply)[0];
  return parseXRangeReply(entries);
}

/** The entries of an XRANGE reply (`[[id, [field, value, ...]], ...]`); malformed ones are skipped. */
export function parseXRangeReply(reply: unknown): RawStreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const entries: RawStreamEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item) || !Array.isArray(item[1])) continue;
    const id = String(item[0]);
    const flat = item[1] as unknown[];
    const fields = new Map<string, Buffer>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      fields.set(String(flat[i]), asBuffer(flat[i + 1]));
    }
    entries.push({ id, fields });
  }
  return entries;
}

function asBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return toBuffer(value);
  return Buffer.from(String(value));
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function invalid(message: string): { ok: false; error: ProtocolError } {
  return fail(ErrorCode.INVALID_PAYLOAD, message);
}
