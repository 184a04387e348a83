/**
 * One Engine.IO session (engine.io's `Socket`): the open handshake packet, the write buffer,
 * heartbeats, the polling -> WebSocket upgrade and the close reasons.
 *
 * ```
 *  opening ──open packet──► open ──close()──► closing ──transport closed──► closed
 *                             │                                              ▲
 *                             └── transport close / error, parse error, ─────┘
 *                                 ping timeout, server shutting down
 * ```
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import { ErrorCode, ProtocolError } from "../errors.js";
import type { EnginePacket } from "../protocol/engine-packet.js";
import { createDebug } from "./debug.js";
import type { Heartbeat, HeartbeatTarget } from "./heartbeat.js";
import {
  IGNORING_LISTENER,
  type OutgoingPacket,
  type Transport,
  type TransportCloseReason,
  type TransportListener,
  type TransportName,
} from "./transports/transport.js";
import { TransportUpgrade, type UpgradeHost } from "./upgrade.js";

const debug = createDebug("switchboard:engine:socket");

/**
 * Why a session closed. The strings are engine.io's, so the Socket.IO layer can pass them
 * on as `DisconnectReason`s:
 * - `"transport close"`: the client closed the connection or sent a close packet
 * - `"transport error"`: the transport failed: network error, aborted poll, overlapping
 *   requests, or a body/message over `maxHttpBufferSize` (description code
 *   `SB_ERR_PAYLOAD_TOO_LARGE`)
 * - `"parse error"`: the client sent a malformed packet or payload
 * - `"ping timeout"`: no pong within `pingTimeout` of a ping
 * - `"forced close"`: the server called {@link EngineSocket.close}
 * - `"server shutting down"`: {@link EngineServer.close} was called
 */
export type EngineCloseReason =
  | TransportCloseReason
  | "ping timeout"
  | "forced close"
  | "server shutting down";

/** The state of a session. */
export type EngineReadyState = "opening" | "open" | "closing" | "closed";

/**
 * Events of an {@link EngineSocket}. There is no `"error"` event: every failure closes the
 * session, and `"close"` carries the reason and an error describing it.
 */
export interface EngineSocketEvents {
  /** A message from the client: text as a string, binary as a Buffer. */
  message: [data: string | Buffer];
  /** The session closed; emitted once. */
  close: [reason: EngineCloseReason, description?: Error];
  /** The client probed a WebSocket; the upgrade is under way. */
  upgrading: [transport: Transport];
  /** The session moved to a new transport. */
  upgrade: [transport: Transport];
  /** A batch of packets was written by the transport; it is writable again. */
  drain: [];
  /** Any packet received from the client. */
  packet: [packet: EnginePacket];
  /** Any packet queued for the client. */
  packetCreate: [packet: OutgoingPacket];
  /** A pong arrived in time. */
  heartbeat: [];
}

/** Options of {@link EngineSocket.send}. */
export interface SendOptions {
  /** Allow compression of this message (HTTP compression, permessage-deflate). Default true. */
  compress?: boolean;
}

/** What an {@link EngineSocket} is created with; {@link EngineServer} builds it. */
export interface EngineSocketInit {
  readonly id: string;
  readonly request: IncomingMessage;
  readonly transport: Transport;
  readonly heartbeat: Heartbeat;
  readonly upgrades: readonly TransportName[];
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly maxPayload: number;
  readonly upgradeTimeout: number;
}

type Callbacks = (() => void)[] | null;

/**
 * A server-side Engine.IO session, created by {@link EngineServer} for each handshake.
 *
 * @example
 * engine.on("connection", (socket) => {
 *   socket.on("message", (data) => socket.send(data));
 *   socket.on("close", (reason) => console.log(socket.id, reason));
 * });
 */
export class EngineSocket extends EventEmitter<EngineSocketEvents> {
  /** The session id (`sid`). */
  readonly id: string;
  /** The handshake request. */
  readonly request: IncomingMessage;
  /** The client's IP address, as seen on the handshake connection. */
  readonly remoteAddress: string;
  /** The Engine.IO protocol revision. */
  readonly protocol = 4 as const;
  readonly #heartbeat: Heartbeat;
  readonly #upgradeTimeout: number;
  readonly #hooks: TransportListener & HeartbeatTarget & UpgradeHost;
  #transport: Transport;
  #readyState: EngineReadyState = "opening";
  #upgrade: TransportUpgrade | null = null;
  #isUpgraded = false;
  #writeBuffer: OutgoingPacket[] = [];
  #pendingCallbacks: Callbacks = null;
  #sentCallbacks: Callbacks[] = [];

  /** Opens a session over `init.transport`; the open packet is queued right away. */
  constructor(init: EngineSocketInit) {
    super();
    this.id = init.id;
    this.request = init.request;
    this.remoteAddress = init.request.socket.remoteAddress ?? "";
    this.#heartbeat = init.heartbeat;
    this.#upgradeTimeout = init.upgradeTimeout;
    this.#hooks = new EngineSocket.#Hooks(this);
    this.#transport = init.transport;
    init.transport.setListener(this.#hooks);
    this.#open(init);
  }

  /** The session state. */
  get readyState(): EngineReadyState {
    return this.#readyState;
  }

  /** The transport in use: `transport.name` is `"polling"` or `"websocket"`. */
  get transport(): Transport {
    return this.#transport;
  }

  /** Whether the session moved from polling to WebSocket. */
  get upgraded(): boolean {
    return this.#isUpgraded;
  }

  /** Whether an upgrade attempt is under way. */
  get upgrading(): boolean {
    return this.#upgrade !== null;
  }

  /**
   * Sends one Engine.IO `message` packet. It is buffered until the transport can write
   * (a polling GET is pending, no upgrade is pausing polling) and flushed with the others.
   * `callback` runs once the transport has written it. Ignored once the session is closing.
   */
  send(data: string | Uint8Array, options?: SendOptions, callback?: () => void): this {
    this.#sendPacket("message", data, options?.compress, callback);
    return this;
  }

  /** Alias of {@link EngineSocket.send}. */
  write(data: string | Uint8Array, options?: SendOptions, callback?: () => void): this {
    return this.send(data, options, callback);
  }

  /**
   * Closes the session gracefully: buffered packets are flushed, a close packet is sent
   * (polling) or the WebSocket closed, then `"close"` is emitted with `"forced close"`.
   */
  close(): void {
    if (this.#readyState !== "open") return;
    this.#readyState = "closing";
    this.#heartbeat.stop(this.#hooks);
    // As engine.io does: an upgrade under way finishes first (within upgradeTimeout), since
    // a client that paused polling can only receive the buffered packets on the new transport.
    if (this.#upgrade === null) this.#closeTransport();
  }

  #closeTransport(): void {
    this.#flushBeforeClose();
    this.#transport.close(() => this.#onClose("forced close"));
  }

  /**
   * A WebSocket takes the remaining packets before its close frame. Polling needs nothing
   * here: its close() asks us for them (onReady) and appends the close packet to them.
   */
  #flushBeforeClose(): void {
    if (this.#transport.name === "websocket") this.#flush(true);
  }

  /**
   * Closes the session at once for a server shutdown: buffered packets and a close packet
   * go out only if the transport can write now. Used by {@link EngineServer.close}.
   * @internal
   */
  shutdown(): void {
    if (this.#readyState === "closed") return;
    this.#readyState = "closing";
    this.#flushBeforeClose();
    this.#transport.discard();
    this.#transport.close();
    this.#onClose("server shutting down");
  }

  /**
   * Starts an upgrade attempt onto `transport` (a WebSocket opened with this session's sid).
   * Used by {@link EngineServer}; closes `transport` if the session cannot upgrade now.
   * @internal
   */
  upgradeTo(transport: Transport): void {
    if (this.#readyState !== "open" || this.#upgrade !== null || this.#isUpgraded) {
      transport.close();
      return;
    }
    this.#upgrade = new TransportUpgrade(this.#hooks, transport, this.#upgradeTimeout);
  }

  #open(init: EngineSocketInit): void {
    const handshake = {
      sid: this.id,
      upgrades: init.upgrades,
      pingInterval: init.pingInterval,
      pingTimeout: init.pingTimeout,
      maxPayload: init.maxPayload,
    };
    this.#readyState = "open";
    this.#sendPacket("open", JSON.stringify(handshake));
    this.#heartbeat.start(this.#hooks);
  }

  // Memory per idle session: one small object (a back-reference) routes transport,
  // heartbeat and upgrade reports to the session, instead of nine closures. It is nested in
  // the class body so it may call the session's private methods.
  static readonly #Hooks = class SessionHooks
    implements TransportListener, HeartbeatTarget, UpgradeHost
  {
    readonly #socket: EngineSocket;
    constructor(socket: EngineSocket) {
      this.#socket = socket;
    }
    onPacket(packet: EnginePacket): void {
      this.#socket.#onPacket(packet);
    }
    onReady(): void {
      this.#socket.#onReady();
    }
    onDrain(): void {
      this.#socket.#onDrain();
    }
    onClose(reason: TransportCloseReason, description?: Error): void {
      this.#socket.#onClose(reason, description);
    }
    sendPing(): void {
      this.#socket.#sendPacket("ping");
    }
    onPingTimeout(): void {
      this.#socket.#onClose("ping timeout");
    }
    onUpgradeProbed(transport: Transport): void {
      this.#socket.#onUpgradeProbed(transport);
    }
    onUpgradeCompleted(transport: Transport): void {
      this.#socket.#onUpgradeCompleted(transport);
    }
    onUpgradeFailed(): void {
      this.#socket.#onUpgradeFailed();
    }
  };

  #onUpgradeFailed(): void {
    this.#upgrade = null;
    if (this.#readyState === "closing") this.#closeTransport();
  }

  #sendPacket(
    type: OutgoingPacket["type"],
    data?: string | Uint8Array,
    compress?: boolean,
    callback?: () => void,
  ): void {
    if (this.#readyState === "closing" || this.#readyState === "closed") return;
    const packet: OutgoingPacket =
      compress === false
        ? { type, data, compress }
        : data === undefined
          ? { type }
          : { type, data };
    this.emit("packetCreate", packet);
    this.#writeBuffer.push(packet);
    if (callback !== undefined) {
      if (this.#pendingCallbacks === null) this.#pendingCallbacks = [callback];
      else this.#pendingCallbacks.push(callback);
    }
    this.#flush(false);
  }

  /** Hands the write buffer to the transport; `force` sends over a busy WebSocket too. */
  #flush(force: boolean): void {
    if (this.#readyState === "closed" || this.#writeBuffer.length === 0) return;
    const transport = this.#transport;
    const canWrite = transport.writable || (force && transport.name === "websocket");
    if (!canWrite) return;
    const batch = this.#writeBuffer;
    this.#writeBuffer = [];
    this.#sentCallbacks.push(this.#pendingCallbacks);
    this.#pendingCallbacks = null;
    transport.send(batch);
  }

  #onPacket(packet: EnginePacket): void {
    if (this.#readyState !== "open") return;
    if (packet.type === "message" && packet.data !== undefined && !isNodeData(packet.data)) {
      packet = { type: "message", data: toBuffer(packet.data) };
    }
    this.emit("packet", packet);
    switch (packet.type) {
      case "pong":
        this.#heartbeat.onPong(this.#hooks);
        this.emit("heartbeat");
        break;
      case "message":
        this.emit("message", (packet.data as string | Buffer | undefined) ?? "");
        break;
      case "ping": {
        // engine.io-protocol v4 §heartbeat: only the server pings.
        const error = new ProtocolError(ErrorCode.INVALID_PACKET, "ping from client");
        this.#onClose("transport error", error);
        break;
      }
      default:
        debug("ignoring %s packet from client", packet.type);
    }
  }

  #onReady(): void {
    // During an upgrade the client waits for this GET to return before it pauses polling.
    if (this.#upgrade?.isProbed === true && this.#writeBuffer.length === 0) {
      this.#transport.send([{ type: "noop" }]);
      return;
    }
    this.#flush(false);
  }

  #onDrain(): void {
    const callbacks = this.#sentCallbacks.shift();
    if (callbacks) for (const callback of callbacks) callback();
    this.emit("drain");
    this.#flush(false);
  }

  #onUpgradeProbed(transport: Transport): void {
    this.emit("upgrading", transport);
    if (!this.#transport.writable) return;
    if (this.#writeBuffer.length > 0) this.#flush(false);
    else this.#transport.send([{ type: "noop" }]);
  }

  #onUpgradeCompleted(transport: Transport): void {
    this.#upgrade = null;
    const previous = this.#transport;
    previous.setListener(IGNORING_LISTENER);
    previous.discard();
    previous.close();
    // Batches written on polling whose "finish" we no longer hear about count as sent.
    for (const callbacks of this.#sentCallbacks.splice(0)) {
      if (callbacks) for (const callback of callbacks) callback();
    }
    this.#transport = transport;
    this.#isUpgraded = true;
    transport.setListener(this.#hooks);
    this.emit("upgrade", transport);
    if (this.#readyState === "closing") this.#closeTransport();
    else this.#flush(false);
  }

  #onClose(reason: EngineCloseReason, description?: Error): void {
    if (this.#readyState === "closed") return;
    debug("session %s closed: %s", this.id, reason);
    this.#readyState = "closed";
    this.#heartbeat.stop(this.#hooks);
    this.#upgrade?.abort("session closed");
    this.#transport.setListener(IGNORING_LISTENER);
    // Nothing more to say to the client: answer a pending GET with a close packet, but do
    // not wait for the next one.
    this.#transport.discard();
    this.#transport.close();
    this.#writeBuffer = [];
    this.#pendingCallbacks = null;
    this.#sentCallbacks = [];
    this.emit("close", reason, description);
  }
}

function isNodeData(data: string | Uint8Array): data is string | Buffer {
  return typeof data === "string" || Buffer.isBuffer(data);
}

/** A Node `Buffer` over the same memory as `bytes` (no copy). */
function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
