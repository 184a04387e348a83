/**
 * Sessions of disconnected sockets as a recovery store outside the process keeps them
 * (Redis Streams mode, NATS JetStream mode): one MessagePack value per session, with the
 * node that persisted it and the snapshot of its ack ledger. What comes back is network input: decoders return undefined for
 * anything malformed, never throw.
 */
import { Buffer } from "node:buffer";
import type { PersistedSession, Room } from "./adapter.js";
import { isRecord, type WireOptions } from "./cluster-message.js";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.js";

const MAX_DEPTH = 100;

/** A persisted session as stored outside the process: the node that persisted it travels with it. */
export interface StoredSession extends PersistedSession {
  /** The uid of the node the socket was on, whose `local` broadcasts it may recover. */
  readonly node: string;
  /**
   * True for the snapshot of a socket that was connected when it was written (see
   * `LiveSessions`): that node may still hold the socket, or may have died holding it.
   */
  readonly live?: boolean;
  /**
   * With `live`: the copy a node writes while it restores the session (until the socket's
   * own snapshot replaces it), so that the session survives that node dying meanwhile.
   */
  readonly restoring?: boolean;
}

/**
 * A session as one MessagePack value. The ack ledger goes as its `toJSON()` snapshot (the
 * answered ids), so de-duplication survives a move to another node or a restart.
 */
export function encodeSession(session: StoredSession): Buffer {
  const { sid, pid, rooms, data, startOffset, node, acks } = session;
  const value = { sid, pid, rooms, data, startOffset, node, acks };
  if (session.live !== true) return toBuffer(encodeMsgpack(value));
  const marks = session.restoring === true ? { live: true, restoring: true } : { live: true };
  return toBuffer(encodeMsgpack({ ...value, ...marks }));
}

/** A session read back, or undefined when the bytes are not one. */
export function decodeSession(bytes: Uint8Array): StoredSession | undefined {
  const decoded = decodeMsgpack(bytes, { maxDepth: MAX_DEPTH });
  if (!decoded.ok || !isRecord(decoded.value)) return undefined;
  const { sid, pid, rooms, data, startOffset, node, acks, live, restoring } = decoded.value;
  if (typeof sid !== "string" || typeof pid !== "string" || typeof node !== "string") {
    return undefined;
  }
  if (!Array.isArray(rooms) || !rooms.every((room) => typeof room === "string")) return undefined;
  const start = typeof startOffset === "string" ? startOffset : undefined;
  const base = { sid, pid, rooms: rooms as Room[], data, startOffset: start, node };
  const marks = live !== true ? {} : restoring === true ? { live, restoring } : { live };
  const session: StoredSession = { ...base, ...marks };
  return acks === undefined || acks === null ? session : { ...session, acks };
}

/** True when a stored broadcast targets a socket in `rooms` (one of its rooms, none of its except). */
export function isForRooms(
  rooms: ReadonlySet<Room>,
  opts: Pick<WireOptions, "rooms" | "except">,
): boolean {
  if (opts.rooms.length > 0 && !opts.rooms.some((room) => rooms.has(room))) return false;
  return !opts.except.some((room) => rooms.has(room));
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
