/**
 * What a session holds for a client until its transport can take it (polling between GETs,
 * an upgrade in progress), and the bound on everything a session holds back (issue 6): bytes
 * here and in the transport, packets here.
 */
import type { RawData } from "../protocol/engine-packet.js";
import type { SessionSettings } from "./session-context.js";
import type { OutgoingPacket } from "./transports/transport.js";

/** The size a message counts for in the bound: UTF-16 units for text, bytes for binary. */
export function sizeOf(data: RawData): number {
  return typeof data === "string" ? data.length : data.byteLength;
}

function sizeOfPacket(packet: OutgoingPacket): number {
  return packet.data === undefined ? 1 : sizeOf(packet.data) + 1;
}

/**
 * Whether `size` more bytes keep a session within its bounds, given `buffered` bytes and
 * `waiting` packets held back already. A single message larger than `maxBufferedBytes`
 * passes when nothing is held back: the bound is on a backlog, not on message size.
 */
export function isWithinBounds(
  buffered: number,
  waiting: number,
  size: number,
  settings: SessionSettings,
): boolean {
  // hot path: two additions and two comparisons.
  const isOverBytes = buffered > 0 && buffered + size > settings.maxBufferedBytes;
  return !isOverBytes && waiting < settings.maxBufferedPackets;
}

/** Packets waiting for the transport, in order, with their total size. */
export class OutgoingBuffer {
  /** The packets, oldest first. */
  packets: OutgoingPacket[];
  /** Their total size, as counted by the bound. */
  bytes: number;

  /** A buffer holding `first`. */
  constructor(first: OutgoingPacket) {
    this.packets = [first];
    this.bytes = sizeOfPacket(first);
  }

  /** Appends a packet. */
  push(packet: OutgoingPacket): void {
    this.packets.push(packet);
    this.bytes += sizeOfPacket(packet);
  }

  /** Drops the volatile packets; returns how many there were. */
  dropVolatile(): number {
    const kept = this.packets.filter((packet) => packet.volatile !== true);
    const dropped = this.packets.length - kept.length;
    this.packets = kept;
    this.bytes = 0;
    for (const packet of kept) this.bytes += sizeOfPacket(packet);
    return dropped;
  }
}
