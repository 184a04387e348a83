/**
 * One Engine.IO session (engine.io's `Socket`): the open handshake packet, the write buffer
 * and its bound, heartbeats, the polling -> WebSocket upgrade and the close reasons.
 *
 * ```
 *  opening ──open packet──► open ──close()──► closing ──transport closed──► closed
 *                             │                                              ▲
 *                             └── transport close / error, parse error, ─────┘
 *                                 ping timeout, slow consumer, server shutting down
 * ```
 *
 * Outgoing packets wait in the session only while the transport cannot take them (polling
 * between GETs, an upgrade in progress); a WebSocket takes them at once and writes them at the
 * end of the event-loop turn. What a session holds back, here and in its transport, is
 * bounded by `maxBufferedBytes` and `maxBufferedPackets` (see {@link EngineSocket.send}).
 */
import { Buffer } from "node:buffer";
import { ErrorCode, ProtocolError, TransportError } from "../errors.js";
import type { EnginePacket, RawData } from "../protocol/engine-packet.js";
import { createDebug } from "./debug.js";
import type { EngineRequest } from "./engine-request.js";
import type { HeartbeatTarget } from "./heartbeat.js";
import { isWithinBounds, OutgoingBuffer, sizeOf } from "./outgoing-buffer.js";
import type { SessionContext } from "./session-context.js";
import { SessionEmitter } from "./session-emitter.js";
import type {
  EngineCloseReason,
  EngineReadyState,
  EngineSocketEvents,
  EngineSocketHandler,
  EngineSocketInit,
  SendOptions,
} from "./session-types.js";
import {
  IGNORING_LISTENER,
  type OutgoingPacket,
  type Transport,
  type TransportListener,
  type TransportName,
} from "./transports/transport.js";
import { TransportUpgrade, type UpgradeHost } from "./upgrade.js";

const debug = createDebug("switchboard:engine:socket");

// EngineSocket's state: one small integer. Bits 0-1: the ready state (an index into
// READY_STATES); bit 2: upgraded; bit 3: an upgrade under way (the attempt itself is kept in
// SessionContext.upgrades); bits 4 and up, signed: the heartbeat's slot (HeartbeatTarget; at
// most MAX_SLOT = 2^25 either way, so the whole stays within 2^30: a small integer, never a
// heap number, even with pointer compression).
const READY_STATES: readonly EngineReadyState[] = ["opening", "open", "closing", "closed"];
const OPENING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const READY = 3;
const UPGRADED = 4;
const UPGRADING = 8;
const FLAGS = 15;
const SLOT_SHIFT = 4;

/**
 * A server-side Engine.IO session, created by {@link EngineServer} for each handshake.
 *
 * @example
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 *   socket.on("close", (reason) => console.log(socket.id, reason));
 * });
 */
export class EngineSocket
  extends SessionEmitter<EngineSocketEvents>
  implements TransportListener, HeartbeatTarget, UpgradeHost
{
  /** The session id (`sid`). */
  readonly id: string;
  /** What is kept of the handshake request: URL, headers, peer address. */
  readonly request: EngineRequest;
  readonly #ctx: SessionContext;
  #transport: Transport;
  // Memory per idle session: the ready state, the upgrade flags and the heartbeat's slot
  // share one small-integer field (see the constants above).
  #state = OPENING;
  #handler: EngineSocketHandler | null = null;
  // Packets the transport cannot take yet; allocated only while non-empty.
  #writeBuffer: OutgoingBuffer | null = null;
  // The rate limit's current window and the messages counted in it.
  #rateWindow = -1;
  #rateCount = 0;

  /** Opens a session over `init.transport`; the open packet is queued right away. */
  constructor(init: EngineSocketInit) {
    super();
    this.id = init.id;
    this.request = init.request;
    this.#ctx = init.context;
    this.#transport = init.transport;
    init.transport.setListener(this);
    this.sendOpen(init.upgrades, init.openFields);
  }

  /** The Engine.IO protocol revision. */
  get protocol(): 4 {
    return 4;
  }

  /** The client's IP address, as seen on the handshake connection. */
  get remoteAddress(): string {
    return this.request.remoteAddress;
  }

  /** The session state. */
  get readyState(): EngineReadyState {
    return READY_STATES[this.#state & READY]!;
  }

  /** The transport in use: `transport.name` is `"polling"` or `"websocket"`. */
  get transport(): Transport {
    return this.#transport;
  }

  /** Whether the session moved from polling to WebSocket. */
  get upgraded(): boolean {
    return (this.#state & UPGRADED) !== 0;
  }

  /** Whether an upgrade attempt is under way. */
  get upgrading(): boolean {
    return (this.#state & UPGRADING) !== 0;
  }

  /**
   * Bytes sent but not written out yet: waiting in the session (polling between GETs) or in
   * the transport and its socket. Compare it with `maxBufferedBytes` to pace a producer, and
   * wait for `"drain"` when it is high.
   */
  get bufferedAmount(): number {
    const waiting = this.#writeBuffer === null ? 0 : this.#writeBuffer.bytes;
    return waiting + this.#transport.bufferedAmount;
  }

  /**
   * Routes messages and the close to `handler` (or back to events only, with null). The
   * `"message"` and `"close"` events are still emitted for listeners.
   */
  setHandler(handler: EngineSocketHandler | null): void {
    this.#handler = handler;
  }

  /**
   * Sends one Engine.IO `message` packet. `callback` runs once the transport has written it.
   * Ignored once the session is closing.
   *
   * What the session holds back for a client is bounded: when a message would take it over
   * `maxBufferedBytes` (or, waiting for a poll, `maxBufferedPackets`), volatile messages are
   * dropped first; if that is not enough the session closes with `"slow consumer"`. A single
   * message larger than the bound still goes out when nothing else is waiting.
   */
  send(data: string | Uint8Array, options?: SendOptions, callback?: () => void): this {
    this.trySend(data, options, callback);
    return this;
  }

  /** Alias of {@link EngineSocket.send}. */
  write(data: string | Uint8Array, options?: SendOptions, callback?: () => void): this {
    return this.send(data, options, callback);
  }

  /**
   * Like {@link EngineSocket.send}, and tells whether the message was taken: false when it
   * was volatile and dropped, or the session is closing or closed.
   */
  trySend(data: string | Uint8Array, options?: SendOptions, callback?: () => void): boolean {
    // hot path: no packet object or batch when the transport takes single messages.
    if ((this.#state & READY) !== OPEN) return false;
    const compress = options?.compress !== false;
    const isVolatile = options?.volatile === true;
    const transport = this.#transport;
    if (isVolatile && !transport.writable) return false;
    if (this.hasListeners("packetCreate")) this.emitCreate(data, compress, isVolatile);
    if (!this.admit(sizeOf(data), isVolatile)) return false;
    if (this.#writeBuffer === null && transport.sendMessage !== undefined) {
      transport.sendMessage(data, compress, callback);
      return true;
    }
    const packet: OutgoingPacket =
      callback === undefined
        ? { type: "message", data, compress, volatile: isVolatile }
        : { type: "message", data, compress, volatile: isVolatile, callback };
    this.bufferPacket(packet);
    this.flush();
    return true;
  }

  /**
   * Sends the parts of one packet (a text header, then binary attachments) that the caller
   * also sends to other sessions: pass the very same array to each, and transports that can
   * share frames (WebSocket without permessage-deflate) encode them once for all. Returns
   * whether they were taken (see {@link EngineSocket.trySend}).
   */
  sendShared(parts: readonly RawData[], options?: SendOptions): boolean {
    // hot path: one cache check, one bound check, one queue operation per part.
    const transport = this.#transport;
    const encoder = transport.frameEncoder;
    if (
      encoder == null ||
      transport.sendPreEncoded === undefined ||
      this.#writeBuffer !== null ||
      this.hasListeners("packetCreate")
    ) {
      return this.sendEach(parts, options);
    }
    if ((this.#state & READY) !== OPEN) return false;
    const isVolatile = options?.volatile === true;
    if (isVolatile && !transport.writable) return false;
    const frames = this.#ctx.framesFor(parts, encoder);
    if (!this.admit(this.#ctx.sharedBytes, isVolatile)) return false;
    for (let i = 0; i < frames.length; i++) transport.sendPreEncoded(frames[i]!, isVolatile);
    return true;
  }

  /**
   * Closes the session gracefully: buffered packets are flushed, a close packet is sent
   * (polling) or the WebSocket closed, then `"close"` is emitted with `"forced close"`.
   */
  close(): void {
    if ((this.#state & READY) !== OPEN) return;
    this.setReadyState(CLOSING);
    this.#ctx.heartbeat.stop(this);
    // As engine.io does: an upgrade under way finishes first (within upgradeTimeout), since
    // a client that paused polling can only receive the buffered packets on the new transport.
    if ((this.#state & UPGRADING) === 0) this.closeTransport();
  }

  /**
   * Closes the session at once for a server shutdown: buffered packets and a close packet
   * go out only if the transport can write now. Used by {@link EngineServer.close}.
   * @internal
   */
  shutdown(): void {
    if ((this.#state & READY) === CLOSED) return;
    this.setReadyState(CLOSING);
    this.flushBeforeClose();
    this.#transport.discard();
    this.#transport.close();
    this.onClose("server shutting down");
  }

  /**
   * Starts an upgrade attempt onto `transport` (a WebSocket opened with this session's sid).
   * Used by {@link EngineServer}; closes `transport` if the session cannot upgrade now.
   * @internal
   */
  upgradeTo(transport: Transport): void {
    if ((this.#state & (READY | UPGRADING | UPGRADED)) !== OPEN) {
      transport.close();
      return;
    }
    const timeout = this.#ctx.settings.upgradeTimeout;
    this.#ctx.upgrades.set(this, new TransportUpgrade(this, transport, timeout));
    this.#state |= UPGRADING;
  }

  /**
   * The heartbeat's bookkeeping, kept in the state's upper bits. @see HeartbeatTarget
   * @internal
   */
  get heartbeatSlot(): number {
    return this.#state >> SLOT_SHIFT;
  }

  set heartbeatSlot(slot: number) {
    this.#state = (slot << SLOT_SHIFT) | (this.#state & FLAGS);
  }

  // Memory per idle session: helpers are `private` methods, not `#` ones. A class with `#`
  // methods stores a brand in each instance (8 bytes); its state stays in `#` fields.
  private sendOpen(upgrades: readonly TransportName[], extra?: Record<string, unknown>): void {
    this.setReadyState(OPEN);
    this.sendControl("open", this.#ctx.openPacketData(this.id, upgrades, extra));
    this.#ctx.heartbeat.start(this);
  }

  // Memory per idle session: the session itself is its transport's listener, its heartbeat
  // target and its upgrade's host (no object or closure per session for them); these
  // methods are called by the engine only.

  /** A packet from the transport. @internal */
  onPacket(packet: EnginePacket): void {
    // hot path: a message goes straight to the handler; events only when listened to.
    if ((this.#state & READY) !== OPEN) return;
    if (packet.type === "message") {
      if (this.#ctx.settings.rateMessages !== 0 && this.isOverRate()) return;
      const raw = packet.data ?? "";
      const data = isNodeData(raw) ? raw : toBuffer(raw);
      if (this.hasListeners("packet")) this.emit("packet", { type: "message", data });
      this.#handler?.onMessage(data);
      if (this.hasListeners("message")) this.emit("message", data);
      return;
    }
    if (this.hasListeners("packet")) this.emit("packet", packet);
    switch (packet.type) {
      case "pong":
        this.#ctx.heartbeat.onPong(this);
        this.emit("heartbeat");
        break;
      case "ping": {
        // engine.io-protocol v4 §heartbeat: only the server pings.
        const error = new ProtocolError(ErrorCode.INVALID_PACKET, "ping from client");
        this.onClose("transport error", error);
        break;
      }
      default:
        debug("ignoring %s packet from client", packet.type);
    }
  }

  /** Counts one client message; true when it is over the rate limit (dropped or closed). */
  private isOverRate(): boolean {
    const ctx = this.#ctx;
    const window = ctx.rateWindow();
    if (window !== this.#rateWindow) {
      this.#rateWindow = window;
      this.#rateCount = 0;
    }
    if (++this.#rateCount <= ctx.settings.rateMessages) return false;
    if (ctx.settings.rateDrops) {
      ctx.metrics.droppedRateLimitedMessages++;
      return true;
    }
    ctx.metrics.rateLimitDisconnects++;
    const { rateMessages, rateInterval } = ctx.settings;
    const message = `more than ${rateMessages} messages in ${rateInterval} ms`;
    this.onClose("rate limit exceeded", new ProtocolError(ErrorCode.TOO_MANY_PACKETS, message));
    return true;
  }

  /** The transport became writable. @internal */
  onReady(): void {
    // During an upgrade the client waits for this GET to return before it pauses polling.
    if (this.#writeBuffer === null && this.currentUpgrade()?.isProbed === true) {
      this.#transport.send([{ type: "noop" }]);
      return;
    }
    this.flush();
  }

  /** The transport wrote what it was given. @internal */
  onDrain(): void {
    if (this.hasListeners("drain")) this.emit("drain");
    this.flush();
  }

  /** The heartbeat's turn to ping. @internal */
  sendPing(): void {
    this.sendControl("ping");
  }

  /** No pong came back in time. @internal */
  onPingTimeout(): void {
    this.onClose("ping timeout");
  }

  /** @see UpgradeHost.onUpgradeProbed @internal */
  onUpgradeProbed(transport: Transport): void {
    this.emit("upgrading", transport);
    if (!this.#transport.writable) return;
    if (this.#writeBuffer !== null) this.flush();
    else this.#transport.send([{ type: "noop" }]);
  }

  /** @see UpgradeHost.onUpgradeCompleted @internal */
  onUpgradeCompleted(transport: Transport): void {
    this.endUpgrade();
    const previous = this.#transport;
    previous.setListener(IGNORING_LISTENER);
    previous.discard();
    previous.close();
    this.#transport = transport;
    this.#state |= UPGRADED;
    transport.setListener(this);
    this.emit("upgrade", transport);
    if ((this.#state & READY) === CLOSING) this.closeTransport();
    else this.flush();
  }

  /** @see UpgradeHost.onUpgradeFailed @internal */
  onUpgradeFailed(): void {
    this.endUpgrade();
    if ((this.#state & READY) === CLOSING) this.closeTransport();
  }

  /** Closes the session at once (transport gone, ping timeout, slow consumer...). @internal */
  onClose(reason: EngineCloseReason, description?: Error): void {
    if ((this.#state & READY) === CLOSED) return;
    debug("session %s closed: %s", this.id, reason);
    this.setReadyState(CLOSED);
    this.#ctx.heartbeat.stop(this);
    this.currentUpgrade()?.abort("session closed");
    const transport = this.#transport;
    transport.setListener(IGNORING_LISTENER);
    this.#writeBuffer = null;
    if (reason === "slow consumer") {
      // Do not wait for a client that does not read: free its buffers now.
      transport.terminate();
    } else {
      // Nothing more to say to the client: answer a pending GET with a close packet, but do
      // not wait for the next one.
      transport.discard();
      transport.close();
    }
    this.#ctx.closed(this);
    this.#handler?.onClose(reason, description);
    this.emit("close", reason, description);
  }

  private setReadyState(readyState: number): void {
    this.#state = (this.#state & ~READY) | readyState;
  }

  /** The upgrade attempt under way, if any. */
  private currentUpgrade(): TransportUpgrade | undefined {
    return (this.#state & UPGRADING) === 0 ? undefined : this.#ctx.upgrades.get(this);
  }

  private endUpgrade(): void {
    this.#state &= ~UPGRADING;
    this.#ctx.upgrades.delete(this);
  }

  private sendEach(parts: readonly RawData[], options: SendOptions | undefined): boolean {
    let isSent = true;
    for (let i = 0; i < parts.length && isSent; i++) isSent = this.trySend(parts[i]!, options);
    return isSent;
  }

  private sendControl(type: OutgoingPacket["type"], data?: string): void {
    if ((this.#state & READY) >= CLOSING) return;
    const packet: OutgoingPacket = data === undefined ? { type } : { type, data };
    if (this.hasListeners("packetCreate")) this.emit("packetCreate", packet);
    const transport = this.#transport;
    if (this.#writeBuffer === null && transport.sendMessage !== undefined) {
      // A transport that takes packets at any time (WebSocket): no buffer in between.
      transport.send([packet]);
      return;
    }
    this.bufferPacket(packet);
    this.flush();
  }

  private emitCreate(data: RawData, compress: boolean, isVolatile: boolean): void {
    const packet: OutgoingPacket = { type: "message", data, compress, volatile: isVolatile };
    this.emit("packetCreate", packet);
  }

  private bufferPacket(packet: OutgoingPacket): void {
    if (this.#writeBuffer === null) this.#writeBuffer = new OutgoingBuffer(packet);
    else this.#writeBuffer.push(packet);
  }

  /**
   * Whether a message of `size` bytes may be queued: true unless the session's buffer would
   * go over its bound. Over the bound, volatile messages (this one included) are dropped
   * first; if that is not enough the session closes with "slow consumer".
   */
  private admit(size: number, isVolatile: boolean): boolean {
    // hot path: one bound check when under the bound.
    const settings = this.#ctx.settings;
    if (isWithinBounds(this.bufferedAmount, this.waitingPackets(), size, settings)) return true;
    const metrics = this.#ctx.metrics;
    if (isVolatile) {
      metrics.droppedVolatilePackets++;
      return false;
    }
    metrics.droppedVolatilePackets += this.dropVolatile();
    const buffered = this.bufferedAmount;
    const waiting = this.waitingPackets();
    if (isWithinBounds(buffered, waiting, size, settings)) return true;
    metrics.slowConsumerDisconnects++;
    const message = `slow consumer: ${buffered} bytes and ${waiting} packets held back`;
    debug("session %s: %s", this.id, message);
    this.onClose("slow consumer", new TransportError(ErrorCode.TRANSPORT_ERROR, message));
    return false;
  }

  private waitingPackets(): number {
    return this.#writeBuffer === null ? 0 : this.#writeBuffer.packets.length;
  }

  private dropVolatile(): number {
    let dropped = this.#transport.dropVolatile?.() ?? 0;
    const buffer = this.#writeBuffer;
    if (buffer === null) return dropped;
    dropped += buffer.dropVolatile();
    if (buffer.packets.length === 0) this.#writeBuffer = null;
    return dropped;
  }

  private closeTransport(): void {
    this.flushBeforeClose();
    this.#transport.close(() => this.onClose("forced close"));
  }

  /**
   * A WebSocket takes the remaining packets before its close frame. Polling needs nothing
   * here: its close() asks us for them (onReady) and appends the close packet to them.
   */
  private flushBeforeClose(): void {
    if (this.#transport.name === "websocket") this.flush();
  }

  /**
   * Hands the write buffer to the transport when it can take it: polling while a GET is
   * pending, a transport that takes messages at once (WebSocket) always.
   */
  private flush(): void {
    const buffer = this.#writeBuffer;
    if ((this.#state & READY) === CLOSED || buffer === null) return;
    const transport = this.#transport;
    if (!transport.writable && transport.sendMessage === undefined) return;
    this.#writeBuffer = null;
    transport.send(buffer.packets);
  }
}

function isNodeData(data: string | Uint8Array): data is string | Buffer {
  return typeof data === "string" || Buffer.isBuffer(data);
}

/** A Node `Buffer` over the same memory as `bytes` (no copy). */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
