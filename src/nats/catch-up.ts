/**
 * Sockets being restored from a stream, and the stored packets the live consumer must not
 * give them directly. A restore reads the packets a socket missed from the stream up to a
 * sequence `upTo`; meanwhile the live consumer keeps delivering. Without care, a packet
 * could reach the socket twice (once replayed, once live) or never (delivered live before
 * the socket joined its rooms). So, from the moment a restore starts:
 *
 * ```
 *   seq <= after        the client already has it: never delivered to the socket again
 *   after < seq         held for the socket (replayed ones, seq <= upTo, are dropped at
 *                       flush), then written, in order, right after the socket's replay
 *   the socket joined   its held packets are written once the CONNECT and the replay
 *                       went out; replayed ones (seq <= upTo) are still skipped, and
 *                       later packets reach it live once the consumer is past `upTo`
 * ```
 * `upTo` may be ahead of the live consumer: the replay reads up to the stream's end.
 * An entry the socket never claims (the client left meanwhile) expires.
 */
import type { Room, SocketId } from "../adapter/adapter.js";
import type { WireOptions } from "../adapter/cluster-message.js";
import { isForRooms } from "../adapter/session-codec.js";

/** A stored packet as the live consumer delivers it. */
export interface HeldPacket {
  readonly seq: number;
  readonly data: readonly unknown[];
  readonly compress: boolean;
}

interface Entry {
  readonly rooms: ReadonlySet<Room>;
  readonly after: number;
  upTo: number;
  held: HeldPacket[] | undefined;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** How long an unclaimed restore is remembered. */
const EXPIRY_MS = 30_000;

/** Restores in progress on one adapter. */
export class CatchUp {
  readonly #entries = new Map<SocketId, Entry>();

  /** How many sockets are being caught up. */
  get size(): number {
    return this.#entries.size;
  }

  /** A restore of socket `sid` (in `rooms`, whose client holds `after`) starts. */
  begin(sid: SocketId, rooms: ReadonlySet<Room>, after: number): void {
    this.cancel(sid);
    const timer = setTimeout(() => this.#entries.delete(sid), EXPIRY_MS);
    timer.unref?.();
    this.#entries.set(sid, { rooms, after, upTo: after, held: [], timer });
  }

  /** The restore replayed every packet up to `upTo`. */
  replayedUpTo(sid: SocketId, upTo: number): void {
    const entry = this.#entries.get(sid);
    if (entry !== undefined) entry.upTo = upTo;
  }

  /** The restore failed: the socket will connect as a new one. */
  cancel(sid: SocketId): void {
    const entry = this.#entries.get(sid);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#entries.delete(sid);
  }

  /**
   * A stored packet the live consumer is about to deliver: returns the sockets it must skip
   * (it is held for them, or they already have it).
   */
  intercept(packet: HeldPacket, opts: Pick<WireOptions, "rooms" | "except">): SocketId[] {
    const skipped: SocketId[] = [];
    for (const [sid, entry] of this.#entries) {
      if (!isForRooms(entry.rooms, opts)) continue;
      if (packet.seq <= entry.after) {
        skipped.push(sid);
      } else if (entry.held !== undefined) {
        entry.held.push(packet);
        skipped.push(sid);
      } else if (packet.seq <= entry.upTo) {
        skipped.push(sid); // replayed: the live consumer is behind the replay
      } else {
        this.cancel(sid); // flushed and past the replay: live delivery from now on
      }
    }
    return skipped;
  }

  /**
   * Socket `sid` joined its rooms: after the current synchronous work (its CONNECT and
   * replay), writes the packets held for it that the replay did not cover.
   */
  claim(sid: SocketId, write: (packet: HeldPacket) => void): void {
    const entry = this.#entries.get(sid);
    if (entry === undefined || entry.held === undefined) return;
    queueMicrotask(() => {
      const held = entry.held ?? [];
      entry.held = undefined;
      for (const packet of held) if (packet.seq > entry.upTo) write(packet);
    });
  }

  /** The live consumer passed `seq`: flushed entries whose replay is behind it need no filter. */
  passed(seq: number): void {
    for (const [sid, entry] of this.#entries) {
      if (entry.held === undefined && seq >= entry.upTo) this.cancel(sid);
    }
  }
}
