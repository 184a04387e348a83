/**
 * The one small interface both server transports implement (STYLE.md §1, after nats.js
 * `transport.ts`). A transport moves Engine.IO packets; it knows nothing of sessions,
 * heartbeats or upgrades. It reports to exactly one {@link TransportListener} at a time:
 * the session that owns it, or the upgrade probe that is testing it. A plain listener object
 * costs less per idle connection than an emitter with five subscriptions.
 */
import type { EnginePacket } from "../../protocol/engine-packet.js";

/** The name of a server transport, as sent in the `transport` query parameter. */
export type TransportName = "polling" | "websocket";

/** Why a transport stopped, as reported to its listener (engine.io's close reasons). */
export type TransportCloseReason = "transport close" | "transport error" | "parse error";

/** A packet on its way out, with its per-packet send options. */
export interface OutgoingPacket extends EnginePacket {
  /** Whether this packet may be compressed (HTTP compression or permessage-deflate). */
  readonly compress?: boolean;
}

/** What a transport reports. Each method is called synchronously from the transport. */
export interface TransportListener {
  /** One decoded packet arrived from the client. */
  onPacket(packet: EnginePacket): void;
  /** The transport became writable (polling: a GET is now pending). */
  onReady(): void;
  /** The last batch passed to {@link Transport.send} was written; `writable` is true again. */
  onDrain(): void;
  /** The transport closed by itself (peer gone, error, malformed input). Called once. */
  onClose(reason: TransportCloseReason, description?: Error): void;
}

/** A server-side Engine.IO transport: WebSocket or HTTP long-polling. */
export interface Transport {
  /** `"polling"` or `"websocket"`. */
  readonly name: TransportName;
  /** Whether {@link Transport.send} may be called now. */
  readonly writable: boolean;
  /** Sends one batch of packets; only valid while {@link Transport.writable} is true. */
  send(packets: readonly OutgoingPacket[]): void;
  /**
   * Closes the transport gracefully: polling answers the pending (or next) GET with a close
   * packet, WebSocket sends a close frame. `onClosed` runs once the transport is done; the
   * listener's `onClose` is not called for a close asked for here.
   */
  close(onClosed?: () => void): void;
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
