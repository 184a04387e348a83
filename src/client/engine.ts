/**
 * The client side of one Engine.IO v4 session: handshake, heartbeat, write buffer and the
 * polling -> WebSocket upgrade (engine.io-protocol v4). The Manager creates one per
 * connection attempt and hears from it through an {@link EngineHandler}.
 *
 * ```
 *            open packet               close()           drained
 *  opening ─────────────────> open ────────────> closing ────────> closed (silently)
 *     │                         │ transport close/error, ping timeout,
 *     └─────────────────────────┴─ parse error ───> closed, handler.close(reason)
 *
 *  upgrade: polling open ─> probe ws ─"2probe"─> ─"3probe"─> pause polling ─> "5" on ws
 * ```
 */
import { EnginePacketType as P, type RawData } from "../protocol/engine-packet.js";
import type { Transport, TransportOptions, TransportRegistry } from "./transport.js";
import type { DisconnectDescription, DisconnectReason } from "./typed-events.js";

/** What an Engine reads from the Manager's options. */
export interface EngineOptions extends TransportOptions {
  /** Engine.IO path on the server. Default `"/socket.io"`. */
  path?: string;
  /** Extra query parameters (default: those of the URL). */
  query?: Record<string, string> | string;
  /** Transports in order of preference; the first available opens the session. */
  transports?: string[];
  /** Upgrade from polling to WebSocket when the server offers it. Default true. */
  upgrade?: boolean;
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
  readyState: "opening" | "open" | "closing" | "closed" = "opening";
  /** The transport carrying the session (`transport.name` tells which). */
  transport: Transport;
  #uri: URL;
  #o: EngineOptions;
  #reg: TransportRegistry;
  #h: EngineHandler;
  #buf: RawData[] = [];
  #busy = false;
  #upgrading = false;
  #probe: Transport | undefined;
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

  /** Queues one Engine.IO `message`. */
  write(data: RawData): void {
    this.#send(typeof data === "string" ? P.message + data : data);
  }

  /** Closes the session once queued packets are written; the handler is not called. */
  close(): void {
    if (this.readyState === "open") {
      this.readyState = "closing";
      if (this.#busy || this.#upgrading) return;
    }
    this.#end();
  }

  #create(name: string): Transport {
    const t: Transport = this.#reg[name]!(
      {
        url: () => {
          const u = this.#uri;
          const q = new URLSearchParams(this.#o.query ?? u.search);
          q.set("EIO", "4");
          q.set("transport", name);
          if (this.id) q.set("sid", this.id);
          const scheme = `${name === "websocket" ? "ws" : "http"}${/s:$/.test(u.protocol) ? "s" : ""}`;
          return `${scheme}://${u.host}${(this.#o.path ?? "/socket.io").replace(/\/?$/, "/")}?${q}`;
        },
        max: () => this.#max,
        open: () => t === this.#probe && t.send([`${P.ping}probe`]),
        frame: (f) => {
          if (t === this.transport) this.#onFrame(f);
          else if (t === this.#probe) this.#onProbe(t, f);
        },
        drain: () => t === this.transport && this.#onDrain(),
        close: (err) => {
          if (t === this.#probe) this.#endProbe();
          else if (t === this.transport) {
            this.#onClose(
              err ? "transport error" : "transport close",
              err ?? { description: `${name} closed` },
            );
          }
        },
      },
      this.#o,
    );
    return t;
  }

  #onFrame(f: RawData): void {
    if (this.readyState === "closing") return;
    const type = typeof f === "string" ? f[0] : P.message;
    const data = typeof f === "string" ? f.slice(1) : f;
    if (type === P.open) this.#onHandshake(data as string);
    else if (type === P.ping) {
      // engine.io-protocol v4 §heartbeat: the server pings, the client answers.
      this.#resetPing();
      this.#send(P.pong);
      this.#h.ping();
    } else if (type === P.message) this.#h.data(data);
    else if (type === P.close) this.#onClose("transport close");
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
    const up = h.upgrades?.find((n) => this.#reg[n] && (o.transports ?? [n]).includes(n));
    if (o.upgrade !== false && up && this.transport.pause && this.readyState === "open") {
      this.#probe = this.#create(up);
    }
  }

  #onProbe(t: Transport, f: RawData): void {
    if (f !== `${P.pong}probe`) {
      this.#endProbe();
      return;
    }
    this.#upgrading = true;
    this.transport.pause!(() => {
      if (this.#probe !== t) return;
      this.#probe = undefined;
      this.#upgrading = false;
      this.transport = t;
      this.#buf.unshift(P.upgrade);
      this.#flush();
    });
  }

  // The probe failed or was refused: stay on polling.
  #endProbe(): void {
    this.#probe?.close();
    this.#probe = undefined;
    this.#upgrading = false;
    this.#flush();
  }

  #resetPing(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#onClose("ping timeout"), this.#heartbeat);
  }

  #send(frame: RawData): void {
    if (this.readyState !== "open") return;
    this.#buf.push(frame);
    this.#flush();
  }

  #flush(): void {
    if (this.#busy || this.#upgrading || this.#buf.length === 0) return;
    this.#busy = true;
    this.transport.send(this.#buf.splice(0));
  }

  #onDrain(): void {
    this.#busy = false;
    this.#flush();
    if (this.readyState === "closing" && !this.#busy && !this.#upgrading) this.#end();
  }

  #onClose(reason: DisconnectReason, description?: DisconnectDescription): void {
    if (this.readyState === "closed") return;
    this.#end();
    this.#h.close(reason, description);
  }

  #end(): void {
    this.readyState = "closed";
    clearTimeout(this.#timer);
    this.transport.close();
    this.#probe?.close();
    this.#probe = undefined;
    this.#buf = [];
  }
}
