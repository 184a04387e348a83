/**
 * The client side of one Engine.IO v4 session: handshake, heartbeat and the
 * polling -> WebSocket upgrade (engine.io-protocol v4). The Manager creates one per
 * connection attempt and hears from it through an {@link EngineHandler}.
 *
 * ```
 *            open packet                  close()
 *  opening ─────────────────> open ─────────────────> closed (silently)
 *     │                         │ transport close/error, ping timeout,
 *     └─────────────────────────┴─ parse error ───> closed, handler.close(reason)
 *
 *  upgrade: polling open ─> probe ws ─"2probe"─> ─"3probe"─> pause polling (writes held)
 *           ─> "5" and the held writes on ws
 * ```
 */
import { TransportError } from "../errors.js";
import type { RawData } from "../protocol/engine-packet.js";
import type { Transport, TransportOptions, TransportRegistry } from "./transport.js";
import type { DisconnectDescription, DisconnectReason } from "./typed-events.js";
import { CLOSE, MESSAGE, OPEN, PING, PONG, UPGRADE } from "./wire.js";

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
  readyState: "opening" | "open" | "closed" = "opening";
  /** The transport carrying the session (`transport.name` tells which). */
  transport: Transport;
  #uri: URL;
  #o: EngineOptions;
  #reg: TransportRegistry;
  #h: EngineHandler;
  #probe: Transport | undefined;
  // Writes held while polling pauses for the upgrade.
  #held: RawData[] | undefined;
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
    this.#probe?.close();
    this.#probe = undefined;
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
        open: () => t === this.#probe && t.send([`${PING}probe`]),
        frame: (f) => {
          if (t === this.transport) this.#onFrame(f);
          else if (t === this.#probe) this.#onProbe(t, f);
        },
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

  #send(frame: RawData): void {
    if (this.readyState !== "open") return;
    if (this.#held) this.#held.push(frame);
    else this.transport.send([frame]);
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
    const up = h.upgrades?.find((n) => this.#reg[n] && (o.transports ?? [n]).includes(n));
    if (o.upgrade !== false && up && this.transport.pause && this.readyState === "open") {
      this.#probe = this.#create(up);
    }
  }

  #onProbe(t: Transport, f: RawData): void {
    if (f !== `${PONG}probe`) {
      this.#endProbe();
      return;
    }
    this.#held = [];
    this.transport.pause!(() => {
      if (this.#probe !== t) return;
      this.#probe = undefined;
      this.transport = t;
      t.send([UPGRADE, ...this.#held!]);
      this.#held = undefined;
    });
  }

  // The probe failed: stay on polling, unless polling already paused for it.
  #endProbe(): void {
    this.#probe?.close();
    this.#probe = undefined;
    if (this.#held) {
      this.#onClose(
        "transport error",
        new TransportError("SB_ERR_TRANSPORT_ERROR", "upgrade failed"),
      );
    }
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
