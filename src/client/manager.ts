/**
 * The Manager owns one Engine.IO connection, multiplexes the namespace sockets over it,
 * decodes Socket.IO packets, and reconnects with backoff after an unexpected close.
 *
 * ```
 *           open()             engine open
 *  closed ─────────> opening ─────────────> open
 *    ▲  ▲               │ error / timeout     │ engine close (transport close/error,
 *    │  │               ▼                     │ ping timeout, parse error)
 *    │  └──────────── closed <────────────────┘
 *    │                  │ reconnection on, not skipped: wait backoff(attempt)
 *    └── reconnect_failed (attempts used up)   └──> reconnect_attempt ─> open()
 * ```
 * `disconnect()` (or the last active socket leaving) closes with "forced close" and skips
 * reconnection until a socket connects again.
 */
import { TimeoutError, TransportError } from "../errors.js";
import type { RawData } from "../protocol/engine-packet.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import { type BackoffOptions, backoff } from "./backoff.js";
import { hasBlob, readBlobs } from "./blob.js";
import { encodeSocketPacket, SocketPacketDecoder } from "./codec.js";
import { Emitter } from "./emitter.js";
import { Engine, type EngineOptions } from "./engine.js";
import { type ManagerPort, Socket, type SocketHook, type SocketOptions } from "./socket.js";
import type { TransportRegistry } from "./transport.js";
import type {
  DefaultEventsMap,
  DisconnectDescription,
  DisconnectReason,
  EventsMap,
  ManagerReservedEvents,
} from "./typed-events.js";

/** Manager options; names and defaults follow socket.io-client. */
export interface ManagerOptions extends BackoffOptions, EngineOptions {
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
 * One connection to a server, shared by the sockets of several namespaces. Use the
 * `Manager` of an entry point (`switchboard/client`), which supplies the transports.
 */
export class Manager<
  L extends EventsMap<L> = DefaultEventsMap,
  E extends EventsMap<E> = L,
> extends Emitter<{}, ManagerReservedEvents> {
  /** The current Engine.IO session, if any. */
  engine: Engine | undefined;
  /** Sockets by namespace. */
  readonly nsps: Record<string, Socket<L, E>> = {};
  /** The options, read again on every (re)connection: changes apply to the next one. */
  readonly opts: ManagerOptions;
  #uri: URL;
  #reg: TransportRegistry;
  #hooks: Record<string, SocketHook> = {};
  #state: "closed" | "opening" | "open" = "closed";
  #attempts = 0;
  #reconnecting = false;
  #skip = false;
  #subs: (() => void)[] = [];
  #decoder = new SocketPacketDecoder();
  #blobs: Promise<void> | undefined;

  constructor(uri: string | undefined, opts: ManagerOptions, registry: TransportRegistry) {
    super();
    this.#uri = new URL(uri ?? location.href, globalThis.location?.href);
    this.opts = opts;
    this.#reg = registry;
    if (opts.autoConnect !== false) this.open();
  }

  /** The socket of namespace `nsp`, created on first use. */
  socket(nsp: string, opts?: SocketOptions): Socket<L, E> {
    let s = this.nsps[nsp];
    if (!s) {
      const port: ManagerPort = {
        send: (packet) => this.#write(packet),
        hook: (fn) => {
          this.#hooks[nsp] = fn;
        },
        release: () => Object.values(this.nsps).some((x) => x.active) || this.disconnect(),
        state: () => (this.#reconnecting ? "reconnecting" : this.#state),
      };
      this.nsps[nsp] = s = new Socket<L, E>(this, nsp, opts ?? {}, port);
    } else if (this.opts.autoConnect !== false && !s.active) s.connect();
    return s;
  }

  /** Opens the connection if it is closed; `fn` gets the outcome (and disables auto-retry). */
  open(fn?: (err?: Error) => void): this {
    if (this.#state !== "closed") return this;
    const o = this.opts;
    this.#state = "opening";
    this.#skip = false;
    const fail = (err: Error) => {
      this.#drop();
      this.#state = "closed";
      this.#error(err);
      if (fn) fn(err);
      else if (!this.#reconnecting && o.reconnection !== false && this.#attempts === 0) {
        this.#reconnect();
      }
    };
    this.engine = new Engine(this.#uri, o, this.#reg, {
      open: () => {
        this.#cleanup();
        this.#state = "open";
        this.emitReserved("open");
        this.#each("open");
        fn?.();
      },
      data: (data) => this.#onData(data),
      ping: () => this.emitReserved("ping"),
      close: (reason, d) => {
        const err = d instanceof Error ? d : undefined;
        if (this.#state === "opening")
          fail(err ?? new TransportError("SB_ERR_TRANSPORT_CLOSED", reason));
        else {
          if (err) this.#error(err);
          this.#onClose(reason, d);
        }
      },
    });
    if (o.timeout !== false) {
      const timer = setTimeout(
        () => fail(new TimeoutError("SB_ERR_CONNECT_TIMEOUT", "timeout")),
        o.timeout ?? 20000,
      );
      this.#subs.push(() => clearTimeout(timer));
    }
    return this;
  }

  /** @see {@link Manager.open} */
  connect(fn?: (err?: Error) => void): this {
    return this.open(fn);
  }

  /** Closes the connection and stops reconnecting ("forced close"). */
  disconnect(): void {
    this.#skip = true;
    this.#reconnecting = false;
    this.#onClose("forced close");
  }

  #each(...args: Parameters<SocketHook>): void {
    for (const hook of Object.values(this.#hooks)) hook(...args);
  }

  #error(err: Error): void {
    this.emitReserved("error", err);
    this.#each("error", err);
  }

  #onData(chunk: RawData): void {
    const r = this.#decoder.add(chunk);
    if (!r.ok) {
      this.#onClose("parse error", r.error);
      return;
    }
    const p = r.value;
    // Deliver after the transport callback returns, so an exception in an app listener
    // cannot break the transport's read loop.
    if (p) queueMicrotask(() => this.#hooks[p.nsp]?.("packet", p));
  }

  #write(packet: SocketPacket): void {
    const out = (p: SocketPacket) => {
      for (const chunk of encodeSocketPacket(p)) this.engine?.write(chunk);
    };
    if (!this.#blobs && !hasBlob(packet.data)) {
      out(packet);
      return;
    }
    // Keep packets in order while Blob bytes are read.
    const done: Promise<void> = (this.#blobs ?? Promise.resolve()).then(async () => {
      out({ ...packet, data: await readBlobs(packet.data) });
      if (this.#blobs === done) this.#blobs = undefined;
    });
    this.#blobs = done;
  }

  #cleanup(): void {
    for (const f of this.#subs.splice(0)) f();
    this.#decoder.reset();
  }

  // Forgets the current engine: it closes without reporting back.
  #drop(): void {
    this.#cleanup();
    this.engine?.close();
  }

  #onClose(reason: DisconnectReason, description?: DisconnectDescription): void {
    this.#drop();
    this.#attempts = 0;
    this.#state = "closed";
    this.emitReserved("close", reason, description);
    this.#each("close", reason, description);
    if (this.opts.reconnection !== false && !this.#skip) this.#reconnect();
  }

  #reconnect(): void {
    const o = this.opts;
    if (this.#reconnecting || this.#skip) return;
    if (this.#attempts >= (o.reconnectionAttempts ?? Number.POSITIVE_INFINITY)) {
      this.#attempts = 0;
      this.emitReserved("reconnect_failed");
      return;
    }
    this.#reconnecting = true;
    const attempt = () => {
      this.#cleanup();
      if (this.#skip) return;
      this.emitReserved("reconnect_attempt", this.#attempts);
      if (this.#skip) return;
      this.open((err) => {
        this.#reconnecting = false;
        if (err) {
          this.#reconnect();
          this.emitReserved("reconnect_error", err);
        } else {
          this.emitReserved("reconnect", this.#attempts);
          this.#attempts = 0;
        }
      });
    };
    const timer = setTimeout(attempt, (o.backoff ?? backoff)(this.#attempts++, o));
    this.#subs.push(() => clearTimeout(timer));
    // Browsers: back online, or the page visible again, ends the wait at once.
    if (typeof addEventListener === "function") {
      const now = () => globalThis.document?.visibilityState !== "hidden" && attempt();
      addEventListener("online", now);
      addEventListener("visibilitychange", now);
      this.#subs.push(() => {
        removeEventListener("online", now);
        removeEventListener("visibilitychange", now);
      });
    }
  }
}
