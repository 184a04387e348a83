/**
 * The one small interface both server transports implement (STYLE.md §1, after nats.js
 * `transport.ts`). A transport moves Engine.IO packets; it knows nothing of sessions,
 * heartbeats or upgrades. It reports to exactly one {@link TransportListener} at a time:
 * the session that owns it, or the upgrade probe that is testing it. A plain listener object
 * costs less per idle connection than an emitter with five subscriptions.
 *
 * Speed-ups are optional capabilities (`sendMessage`, `sendPreEncoded`) that a session uses
 * when the transport offers them; the plain `send(packets)` always works.
 */
import type { EnginePacket, RawData } from "../../protocol/engine-packet.js";

/** The name of a server transport, as sent in the `transport` query parameter. */
export type TransportName = "polling" | "websocket";

/** Why a transport stopped, as reported to its listener (engine.io's close reasons). */
export type TransportCloseReason = "transport close" | "transport error" | "parse error";

/** A packet on its way out, with its per-packet send options. */
export interface OutgoingPacket extends EnginePacket {
  /** Whether this packet may be compressed (HTTP compression or permessage-deflate). */
  readonly compress?: boolean;
  /** Whether this packet may be dropped when the session's buffer is over its bound. */
  readonly volatile?: boolean;
  /** Runs once the transport has written this packet out. */
  readonly callback?: () => void;
}

/**
 * A `message` packet already encoded for one transport kind, made once by that kind's
 * encoder and written as it is to every connection of a broadcast (WebSocket: the complete
 * frame).
 */
export interface PreEncodedFrame {
  /** The bytes to write. */
  readonly bytes: Uint8Array;
}

/** What a transport reports. Each method is called synchronously from the transport. */
export interface TransportListener {
  /** One decoded packet arrived from the client. */
  onPacket(packet: EnginePacket): void;
  /** The transport became writable (polling: a GET is now pending). */
  onReady(): void;
  /**
   * What was given to the transport has been written (polling: the response finished;
   * WebSocket: the socket took the bytes without backing up); `writable` is true again.
   */
  onDrain(): void;
  /** The transport closed by itself (peer gone, error, malformed input). Called once. */
  onClose(reason: TransportCloseReason, description?: Error): void;
}

/** A server-side Engine.IO transport: WebSocket or HTTP long-polling. */
export interface Transport {
  /** `"polling"` or `"websocket"`. */
  readonly name: TransportName;
  /**
   * Whether {@link Transport.send} may be called now. Polling: a GET is pending. WebSocket:
   * open and not backed up (what was written earlier has reached the OS).
   */
  readonly writable: boolean;
  /** Bytes given to this transport that have not reached the OS yet. */
  readonly bufferedAmount: number;
  /**
   * Sends one batch of packets; only valid while {@link Transport.writable} is true, or at
   * any time for a transport that offers {@link Transport.sendMessage}. Packet callbacks run
   * once the batch is written.
   */
  send(packets: readonly OutgoingPacket[]): void;
  /**
   * Capability (WebSocket): queues one `message` packet at once, whether or not the
   * transport is writable, without building a batch. `callback` runs once it is written.
   */
  sendMessage?(data: RawData, compress: boolean, callback?: () => void): void;
  /**
   * Capability: the encoder of pre-encoded frames for this connection, or null when frames
   * cannot be shared right now (e.g. permessage-deflate compresses per connection).
   */
  readonly frameEncoder?: ((data: RawData) => PreEncodedFrame) | null;
  /**
   * Capability: queues a frame made by {@link Transport.frameEncoder}; a volatile one may be
   * dropped by {@link Transport.dropVolatile} until it is written.
   */
  sendPreEncoded?(frame: PreEncodedFrame, isVolatile?: boolean): void;
  /**
   * Drops packets queued but not written yet that were sent as volatile; returns how many.
   * Used when the session's buffer is over its bound.
   */
  dropVolatile?(): number;
  /**
   * Closes the transport gracefully: polling answers the pending (or next) GET with a close
   * packet, WebSocket sends a close frame. `onClosed` runs once the transport is done; the
   * listener's `onClose` is not called for a close asked for here.
   */
  close(onClosed?: () => void): void;
  /** Drops the connection at once, discarding anything not written (slow consumer). */
  terminate(): void;
  /** Marks the transport as replaced by an upgrade, so `close()` need not wait for the peer. */
  discard(): void;
  /** Routes this transport's reports to `listener` from now on. */
  setListener(listener: TransportListener): void;
}

/** A listener that ignores everything: given to a transport that has been let go. */
export const IGNORING_LISTENER: TransportListener = {
  onPacket() {},
  onReady() {},
  onDrain() {},
  onClose() {},
};
