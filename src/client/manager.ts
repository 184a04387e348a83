/**
 * The Manager owns one Engine.IO session at a time (engine.io-protocol v4: handshake,
 * heartbeat), multiplexes the namespace sockets over it, decodes Socket.IO packets, and
 * reconnects with backoff after an unexpected close. Upgrading from polling to WebSocket
 * is the polling transport's business.
 *
 * ```
 *           open()            open packet
 *  closed ─────────> opening ─────────────> open
 *    ▲  ▲               │ transport error,    │ transport close/error, ping timeout,
 *    │  │               ▼ timeout             │ parse error
 *    │  └──────────── closed <────────────────┘
 *    │                  │ reconnection on, not skipped: wait backoff(attempt)
 *    └── reconnect_failed (attempts used up)   └──> reconnect_attempt ─> open()
 * ```
 * `disconnect()` (or the last active socket leaving) closes with "forced close" and skips
 * reconnection until a socket connects again.
 */
import { TimeoutError } from "../errors.js";
import type { RawData } from "../protocol/engine-packet.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import { type BackoffOptions, backoff } from "./backoff.js";
import { encodeSocketPacket, SocketPacketDecoder } from "./codec.js";
import { Emitter } from "./emitter.js";
import { closedError, Socket, type SocketOptions } from "./socket.js";
import type { Frame, Transport, TransportOptions, TransportRegistry } from "./transport.js";
import type {
  DefaultEventsMap,
  DisconnectReason,
  EventsMap,
  ManagerReservedEvents,
} from "./typed-events.js";
import { websocket } from "./websocket.js";
import { CLOSE, DISCONNECT, HANDSHAKE_CONNECT, MESSAGE, OPEN, PING, PONG } from "./wire.js";

/** Manager options; names and defaults follow socket.io-client. */
export interface ManagerOptions extends BackoffOptions, TransportOptions {
  /** Engine.IO path on the server. Default `"/socket.io"`. */
  path?: string;
  /** Extra query parameters (default: those of the URL). */
  query?: Record<string, string> | string;
  /** Connect timeout in ms, or false for none. Default 20000. */
  timeout?: number | false;
  /** Connect on creation. Default true. */
  autoConnect?: boolean;
  /** Reconnect after an unexpected close. Default true. */
  reconnection?: boolean;
  /** Reconnection attempts before `reconnect_failed`. Default Infinity. */
  reconnectionAttempts?: number;
  /** The delay function (ours): attempt number (0-based) and these options to ms. */
  backoff?: (attempt: number, opts: BackoffOptions) => number;
}

/** Options of `io()`: Manager options, socket options, and how managers are shared. */
export interface IoOptions extends ManagerOptions, SocketOptions {
  /** Always create a new Manager (a new connection). */
  forceNew?: boolean;
  /** Share a Manager per origin and path. Default true. */
  multiplex?: boolean;
}

/**
 * The current Engine.IO session, as `manager.engine`. It also tells the Manager's state:
 * closed without one, opening until it has an `id`, then open.
 */
export interface Engine {
  /** The session id, once the handshake is done. */
  id?: string;
  /** The transport carrying it; `transport.name` changes when polling upgrades. */
  transport: Transport;
}

interface Handshake {
  sid: string;
  pingInterval: number;
  pingTimeout: number;
  /** The namespace the server joined for us in the handshake (Switchboard servers). */
  [HANDSHAKE_CONNECT]?: string;
}

/** Resolves `uri` against the page's address (browsers); without one, the page's address. */
export const toURL = (uri?: string): URL => new URL(uri ?? "", globalThis.location?.href);

/**
 * One connection to a server, shared by the sockets of several namespaces.
 *
 * @example
 * const manager = new Manager("https://example.com", { reconnectionAttempts: 5 });
 * const admin = manager.socket("/admin");
 */
export class Manager<
  L extends EventsMap<L> = DefaultEventsMap,
  E extends EventsMap<E> = L,
> extends Emitter<{}, ManagerReservedEvents> {
  /** The current Engine.IO session, while opening or open. */
  engine: Engine | undefined;
  /** Sockets by namespace. */
  readonly nsps: Record<string, Socket<L, E>> = {};
  // `declare`: set by the constructor, no field definition needed.
  /** The options, read again on every (re)connection: changes apply to the next one. */
  declare readonly opts: ManagerOptions;
  #uri: URL;
  #reg: TransportRegistry;
  #attempts = 0;
  #reconnecting = false;
  #skip = false;
  // Timers and listeners to drop when the state changes.
  #subs: (() => void)[] = [];
  // The session's decoder: a new session drops any packet still waiting for attachments.
  #decoder!: SocketPacketDecoder;
  #ping: ReturnType<typeof setTimeout> | undefined;
  #heartbeat = 0;
  // The namespace named in the handshake URL, then the one the server joined in the
  // handshake, until its socket claims it.
  #asked: string | undefined;
  #joined: string | undefined;

  /**
   * `registry`: the transports on offer (WebSocket only by default; the `switchboard/client`
   * entry adds polling).
   */
  constructor(
    uri?: string,
    opts: ManagerOptions = {},
    registry: TransportRegistry = { websocket },
  ) {
    super();
    this.#uri = toURL(uri);
    this.opts = opts;
    this.#reg = registry;
    if (opts.autoConnect !== false) this.open();
  }

  /** The socket of namespace `nsp`, created on first use; with `autoConnect`, connecting. */
  socket(nsp: string, opts: SocketOptions = {}): Socket<L, E> {
    let s = this.nsps[nsp];
    if (!s) this.nsps[nsp] = s = new Socket<L, E>(this, nsp, opts);
    if (this.opts.autoConnect !== false && !s.active) s.connect();
    return s;
  }

  /** Opens the connection unless it is open, opening, or waiting to reconnect. */
  open(): this {
    if (!this.engine && !this.#reconnecting) this.#open();
    return this;
  }

  #open(): void {
    const o = this.opts;
    const names = o.transports ?? Object.keys(this.#reg);
    const name = names.find((n) => this.#reg[n]);
    if (!name) throw new Error(`no transport among ${names}`);
    this.#skip = false;
    this.#decoder = new SocketPacketDecoder();
    // Made first: a transport may ask for its URL while being created.
    const engine = {} as Engine;
    this.engine = engine;
    engine.transport = this.#reg[name]!(
      {
        url: (transport) => this.#url(transport, engine),
        frame: (f) => engine === this.engine && this.#onFrame(f),
        close: (err) =>
          engine === this.engine && this.#onClose(err ? "transport error" : "transport close", err),
      },
      o,
    );
    if (o.timeout !== false) {
      const timer = setTimeout(
        () =>
          this.#onClose("transport error", new TimeoutError("SB_ERR_CONNECT_TIMEOUT", "timeout")),
        o.timeout ?? 20000,
      );
      this.#subs.push(() => clearTimeout(timer));
    }
  }

  /** Closes the connection and stops reconnecting ("forced close"). */
  disconnect(): void {
    this.#skip = true;
    this.#reconnecting = false;
    this.#onClose("forced close");
  }

  /**
   * Whether the server joined namespace `nsp` in this session's handshake: true once, for
   * its socket, which then sends no CONNECT packet and waits for the answer. @internal
   */
  claimHandshakeConnect(nsp: string): boolean {
    const joined = this.#joined === nsp;
    if (joined) this.#joined = undefined;
    return joined;
  }

  // The session's own URL: a closing session still names its sid.
  #url(transport: string, engine: Engine): string {
    const u = this.#uri;
    const q = new URLSearchParams(this.opts.query ?? u.search);
    q.set("EIO", "4");
    q.set("transport", transport);
    if (engine.id) q.set("sid", engine.id);
    else {
      // The handshake joins the first socket waiting to connect that needs no CONNECT data (no
      // auth, no session to recover): one round trip less with a Switchboard server.
      this.#asked = Object.values(this.nsps).find((s) => s.joinsInHandshake)?.nsp;
      // "/" left unescaped, so the server keeps one URL string for all such handshakes.
      if (this.#asked) q.set(HANDSHAKE_CONNECT, this.#asked);
    }
    // http(s) for polling, ws(s) for WebSocket, whichever scheme the URL was given with.
    const scheme = u.protocol.replace(/^(http|ws)/, transport === "websocket" ? "ws" : "http");
    const path = (this.opts.path ?? "/socket.io").replace(/\/?$/, "/");
    return `${scheme}//${u.host}${path}?${String(q).replace(/%2F/g, "/")}`;
  }

  #send(frames: Frame[]): void {
    if (this.engine?.id) this.engine.transport.send(frames);
  }

  #onFrame(f: RawData): void {
    // Bytes are a binary message (an attachment).
    if (typeof f !== "string") {
      this.#onData(f);
      return;
    }
    const type = f[0];
    const data = f.slice(1);
    if (type === OPEN) this.#onHandshake(data);
    else if (type === PING) {
      // engine.io-protocol v4 §heartbeat: the server pings, the client answers.
      this.#resetPing();
      this.#send([PONG]);
      this.emitReserved("ping");
    } else if (type === MESSAGE) this.#onData(data);
    else if (type === CLOSE) this.#onClose("transport close");
  }

  #onHandshake(data: string): void {
    let h: Handshake;
    try {
      h = JSON.parse(data);
    } catch (err) {
      this.#onClose("parse error", err as Error);
      return;
    }
    this.engine!.id = h.sid;
    this.#heartbeat = h.pingInterval + h.pingTimeout;
    this.#cleanup();
    this.#resetPing();
    this.#joined = h[HANDSHAKE_CONNECT] === this.#asked ? this.#asked : undefined;
    this.emitReserved("open");
    // Its socket left before the session opened: the server is told it left too.
    if (this.#joined) this.writePacket({ type: DISCONNECT, nsp: this.#joined });
    this.#joined = undefined;
    if (this.#reconnecting) {
      this.#reconnecting = false;
      this.emitReserved("reconnect", this.#attempts);
    }
  }

  #resetPing(): void {
    clearTimeout(this.#ping);
    this.#ping = setTimeout(() => this.#onClose("ping timeout"), this.#heartbeat);
  }

  #onData(chunk: RawData): void {
    const r = this.#decoder.add(chunk);
    if (r instanceof Error) this.#onClose("parse error", r);
    else if (r)
      try {
        // hot path: delivered at once, so the replies its listeners send leave together
        // (see the WebSocket transport's batching).
        this.emitReserved("packet", r);
      } catch (err) {
        // An app listener threw: rethrown outside the transport's read loop, which goes on.
        queueMicrotask(() => {
          throw err;
        });
      }
  }

  /** Sends a packet of one of this Manager's sockets (dropped unless open). @internal */
  writePacket(packet: SocketPacket): void {
    // hot path: one transport write per packet, its attachments with it.
    this.#send(encodeSocketPacket(packet));
  }

  #cleanup(): void {
    for (const f of this.#subs.splice(0)) f();
  }

  // Ends the session. Opening: a failed attempt ("error", a retry, "reconnect_error").
  // Open: a close ("error" first for a transport error, then "close" and reconnection).
  // `cause`: the error behind it, also the "close" event's description.
  #onClose(reason: DisconnectReason, cause?: Error): void {
    const engine = this.engine;
    const forced = reason === "forced close";
    if (!engine && !forced) return;
    const failed = !engine?.id && !forced;
    const err = cause ?? (failed ? closedError(reason) : undefined);
    this.#cleanup();
    clearTimeout(this.#ping);
    engine?.transport.close();
    this.engine = undefined;
    if (err) this.emitReserved("error", err);
    if (!failed) {
      this.#attempts = 0;
      this.emitReserved("close", reason, cause);
    }
    // Still reconnecting: this was a failed attempt (disconnect() stops reconnecting first).
    const retrying = this.#reconnecting;
    this.#reconnecting = false;
    this.#reconnect();
    if (retrying) this.emitReserved("reconnect_error", err!);
  }

  // Called by #onClose only, which has just ended any reconnection.
  #reconnect(): void {
    const o = this.opts;
    if (this.#skip || o.reconnection === false) return;
    if (this.#attempts >= (o.reconnectionAttempts ?? Infinity)) {
      this.#attempts = 0;
      this.emitReserved("reconnect_failed");
      return;
    }
    this.#reconnecting = true;
    // disconnect() clears the timer and listeners that call it, but a reconnect_attempt
    // listener may call it too.
    const attempt = () => {
      this.#cleanup();
      this.emitReserved("reconnect_attempt", this.#attempts);
      if (!this.#skip) this.#open();
    };
    const timer = setTimeout(attempt, (o.backoff ?? backoff)(this.#attempts++, o));
    this.#subs.push(() => clearTimeout(timer));
    // Browsers: back online, or the page visible again, ends the wait at once.
    const now = () => globalThis.document?.visibilityState !== "hidden" && attempt();
    for (const ev of ["online", "visibilitychange"]) {
      globalThis.addEventListener?.(ev, now);
      this.#subs.push(() => globalThis.removeEventListener?.(ev, now));
    }
  }
}
