/**
 * The client side of one Engine.IO v4 session: handshake and heartbeat
 * (engine.io-protocol v4). The Manager creates one per connection attempt and hears from it
 * through an {@link EngineHandler}. Upgrading is the polling transport's business.
 *
 * ```
 *            open packet                  close()
 *  opening ─────────────────> open ─────────────────> closed (silently)
 *     │                         │ transport close/error, ping timeout,
 *     └─────────────────────────┴─ parse error ───> closed, handler.close(reason)
 * ```
 */
import type { RawData } from "../protocol/engine-packet.js";
import type { Transport, TransportOptions, TransportRegistry } from "./transport.js";
import type { DisconnectDescription, DisconnectReason } from "./typed-events.js";
import { CLOSE, MESSAGE, OPEN, PING, PONG } from "./wire.js";

/** What an Engine reads from the Manager's options. */
export interface EngineOptions extends TransportOptions {
  /** Engine.IO path on the server. Default `"/socket.io"`. */
  path?: string;
  /** Extra query parameters (default: those of the URL). */
  query?: Record<string, string> | string;
}

/** How an Engine reports to its Manager. Nothing is reported after `close()`. */
export interface EngineHandler {
  open(): void;
  data(data: RawData): void;
  ping(): void;
  /** The session ended by itself; for "transport error" the description is the Error. */
  close(reason: DisconnectReason, description?: DisconnectDescription): void;
}

interface Handshake {
  sid: string;
  upgrades?: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** One Engine.IO session. */
export class Engine {
  /** The session id, once the handshake is done. */
  id: string | undefined;
  /** Where the session stands (see the diagram above). */
  readyState: "opening" | "open" | "closed" = "opening";
  /** The transport carrying the session (`transport.name` tells which). */
  transport: Transport;
  #uri: URL;
  #o: EngineOptions;
  #reg: TransportRegistry;
  #h: EngineHandler;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat = 0;
  #max = 0;

  constructor(uri: URL, opts: EngineOptions, registry: TransportRegistry, handler: EngineHandler) {
    this.#uri = uri;
    this.#o = opts;
    this.#reg = registry;
    this.#h = handler;
    const names = opts.transports ?? ["polling", "websocket"];
    const first = names.find((n) => registry[n]);
    if (!first) throw new Error(`no transport among ${names}`);
    this.transport = this.#create(first);
  }

  /** Sends one Engine.IO `message`. */
  write(data: RawData): void {
    this.#send(typeof data === "string" ? MESSAGE + data : data);
  }

  /** Closes the session (after what was written); the handler is not called. */
  close(): void {
    this.readyState = "closed";
    clearTimeout(this.#timer);
    this.transport.close();
  }

  #create(name: string): Transport {
    return this.#reg[name]!(
      {
        url: (transport) => {
          const u = this.#uri;
          const q = new URLSearchParams(this.#o.query ?? u.search);
          q.set("EIO", "4");
          q.set("transport", transport);
          if (this.id) q.set("sid", this.id);
          const scheme = `${transport === "websocket" ? "ws" : "http"}${/s:$/.test(u.protocol) ? "s" : ""}`;
          return `${scheme}://${u.host}${(this.#o.path ?? "/socket.io").replace(/\/?$/, "/")}?${q}`;
        },
        max: () => this.#max,
        open: () => {},
        frame: (f) => this.#onFrame(f),
        close: (err) =>
          this.#onClose(
            err ? "transport error" : "transport close",
            err ?? { description: `${name} closed` },
          ),
      },
      this.#o,
    );
  }

  #send(frame: RawData): void {
    if (this.readyState === "open") this.transport.send([frame]);
  }

  #onFrame(f: RawData): void {
    const type = typeof f === "string" ? f[0] : MESSAGE;
    const data = typeof f === "string" ? f.slice(1) : f;
    if (type === OPEN) this.#onHandshake(data as string);
    else if (type === PING) {
      // engine.io-protocol v4 §heartbeat: the server pings, the client answers.
      this.#resetPing();
      this.#send(PONG);
      this.#h.ping();
    } else if (type === MESSAGE) this.#h.data(data);
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
    this.id = h.sid;
    this.#heartbeat = h.pingInterval + h.pingTimeout;
    this.#max = h.maxPayload;
    this.readyState = "open";
    this.#resetPing();
    this.#h.open();
    const o = this.#o;
    const names = h.upgrades?.filter((n) => (o.transports ?? [n]).includes(n));
    if (o.upgrade !== false && this.readyState === "open") this.transport.upgrade?.(names ?? []);
  }

  #resetPing(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#onClose("ping timeout"), this.#heartbeat);
  }

  #onClose(reason: DisconnectReason, description?: DisconnectDescription): void {
    if (this.readyState === "closed") return;
    this.close();
    this.#h.close(reason, description);
  }
}
