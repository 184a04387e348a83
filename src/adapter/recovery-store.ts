/**
 * The in-memory store behind connection-state recovery: recent broadcast packets with their
 * offsets, and the sessions of recently disconnected sockets.
 *
 * Bounded twice: packets older than `maxDisconnectionDuration` are dropped, and so are the
 * oldest packets past `maxPackets`. A session whose offset fell out of the window cannot be
 * recovered, and the client is told so (`recovered === false`) rather than silently given
 * a gap.
 */
import { encodedPacketData } from "../protocol/socket-packet.js";
import type {
  BroadcastOptions,
  EncodedPacket,
  PersistedSession,
  RecoveredSession,
  RecoverySettings,
  Room,
} from "./adapter.js";

interface StoredPacket {
  readonly seq: number;
  readonly at: number;
  readonly rooms: ReadonlySet<Room>;
  readonly except: ReadonlySet<Room>;
  /**
   * The EVENT's data with its offset, or the packet's text once it was encoded as one
   * string (see {@link MemoryRecoveryStore.keepEncoded}).
   */
  data: readonly unknown[] | string;
}

interface StoredSession extends PersistedSession {
  readonly disconnectedAt: number;
}

/** Offsets are base-36 sequence numbers: short on the wire, ordered, cheap to parse. */
function toOffset(seq: number): string {
  return seq.toString(36);
}

function fromOffset(offset: string): number {
  return /^[0-9a-z]{1,11}$/.test(offset) ? Number.parseInt(offset, 36) : Number.NaN;
}

/** Recent packets and disconnected sessions of one namespace, in memory. */
export class MemoryRecoveryStore {
  readonly #options: RecoverySettings;
  // A plain array used as a queue: `#head` is the index of the oldest live packet.
  #packets: StoredPacket[] = [];
  #head = 0;
  #seq = 0;
  // The packet appended last, until its encoding is known (keepEncoded).
  #unencoded: StoredPacket | undefined;
  readonly #sessions = new Map<string, StoredSession>();

  constructor(options: RecoverySettings) {
    this.#options = options;
  }

  /** The offset of the newest stored packet, if any. */
  get lastOffset(): string | undefined {
    return this.#seq === 0 ? undefined : toOffset(this.#seq);
  }

  /**
   * Stores an EVENT's data under a new offset and returns the data with the offset appended
   * as its last element, as Socket.IO 4.6+ clients expect.
   */
  append(data: readonly unknown[], opts: BroadcastOptions, now = Date.now()): unknown[] {
    this.#seq++;
    const withOffset = [...data, toOffset(this.#seq)];
    const packet: StoredPacket = {
      seq: this.#seq,
      at: now,
      rooms: opts.rooms,
      except: opts.except,
      data: withOffset,
    };
    this.#packets.push(packet);
    this.#unencoded = packet;
    this.#trim(now);
    return withOffset;
  }

  /**
   * Keeps the packet just appended as `encoded`, the EVENT its data was sent in, when that
   * is one string: one object for the garbage collector to copy and mark where the data is a
   * graph of them, for as long as the packet stays in the window (`socket.emit` echoes with
   * socket.io-client: 7.03 against 7.49 us of server CPU per round trip; 6.3 with recovery
   * off).
   * Does nothing when no packet was appended since the last call.
   */
  keepEncoded(encoded: EncodedPacket): void {
    const packet = this.#unencoded;
    this.#unencoded = undefined;
    const text = encoded[0];
    if (packet !== undefined && encoded.length === 1 && typeof text === "string") {
      packet.data = text;
    }
  }

  /** Keeps a disconnected socket's session for `maxDisconnectionDuration`. */
  persist(session: PersistedSession, now = Date.now()): void {
    this.#sessions.delete(session.pid); // re-insert so the map stays in disconnection order
    this.#sessions.set(session.pid, { ...session, disconnectedAt: now });
    this.#expireSessions(now);
  }

  /**
   * The session with the packets it missed after `offset` (or after the session's start
   * when the client got no packet yet), or undefined when that is impossible. A session is
   * restored at most once.
   */
  restore(pid: string, offset: string | undefined, now = Date.now()): RecoveredSession | undefined {
    const session = this.#sessions.get(pid);
    if (session === undefined) return undefined;
    this.#sessions.delete(pid);
    if (session.disconnectedAt + this.#options.maxDisconnectionDuration < now) return undefined;
    this.#trim(now);
    const from = offset === undefined ? session.startOffset : offset;
    const after = from === undefined ? 0 : fromOffset(from);
    if (Number.isNaN(after) || after > this.#seq) return undefined;
    const oldest = this.#packets[this.#head]?.seq ?? this.#seq + 1;
    if (after + 1 < oldest) return undefined; // packets after the offset were trimmed
    const rooms = new Set(session.rooms);
    const missedPackets: unknown[][] = [];
    for (let i = this.#head; i < this.#packets.length; i++) {
      const packet = this.#packets[i]!;
      if (packet.seq > after && isForRooms(rooms, packet)) missedPackets.push(dataOf(packet));
    }
    const { disconnectedAt: _, ...persisted } = session;
    return { ...persisted, missedPackets };
  }

  #trim(now: number): void {
    const threshold = now - this.#options.maxDisconnectionDuration;
    const max = this.#options.maxPackets;
    let head = this.#head;
    while (head < this.#packets.length) {
      const packet = this.#packets[head]!;
      if (this.#packets.length - head <= max && packet.at >= threshold) break;
      head++;
    }
    this.#head = head;
    // Compact once the dead prefix dominates, so the array never grows without bound.
    if (head > 1024 && head * 2 > this.#packets.length) {
      this.#packets = this.#packets.slice(head);
      this.#head = 0;
    }
  }

  #expireSessions(now: number): void {
    const threshold = now - this.#options.maxDisconnectionDuration;
    for (const [pid, session] of this.#sessions) {
      // Map order is insertion order, so the first live session ends the sweep.
      if (session.disconnectedAt >= threshold) break;
      this.#sessions.delete(pid);
    }
  }
}

/** A stored packet's data (with its offset), decoded back from its text if it was kept so. */
function dataOf(packet: StoredPacket): unknown[] {
  const data = packet.data;
  return typeof data === "string" ? (encodedPacketData(data) as unknown[]) : [...data];
}

function isForRooms(rooms: ReadonlySet<Room>, packet: StoredPacket): boolean {
  let included = packet.rooms.size === 0;
  for (const room of packet.rooms) {
    if (rooms.has(room)) {
      included = true;
      break;
    }
  }
  if (!included) return false;
  for (const room of packet.except) if (rooms.has(room)) return false;
  return true;
}
