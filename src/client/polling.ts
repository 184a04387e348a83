/**
 * The HTTP long-polling transport (engine.io-protocol v4 §polling): one GET in
 * flight to receive, POSTs serialised to send, packets joined with `\x1e` and binary sent as
 * base64 behind a `b`. Each POST stays under the session's `maxPayload`. It also performs
 * the upgrade to WebSocket (engine.io-protocol v4 §upgrade), so the engine and the
 * WebSocket-only bundle know nothing of it.
 */
import { TransportError } from "../errors.js";
import { type RawData, RECORD_SEPARATOR } from "../protocol/engine-packet.js";
import { httpRequest } from "./http-request.js";
import { nodeOptionsOf } from "./node-options.js";
import {
  type Frame,
  isNode,
  type Transport,
  type TransportFactory,
  type TransportOptions,
  type TransportSink,
} from "./transport.js";
import { websocket } from "./websocket.js";
import { CLOSE, OPEN, PING, PONG, UPGRADE } from "./wire.js";

// Base64 in Node with Buffer's native code; in browsers with btoa/atob, over a binary string
// made 8 KB at a time (not one string and one callback per byte: a 1 MB attachment took
// ~100 ms that way).
const b64 = (bytes: Uint8Array): string => {
  if (isNode)
    return `b${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64")}`;
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return `b${btoa(binary)}`;
};

// In Node, text outside the alphabet is refused, as atob refuses it (Buffer would skip it).
const fromB64 = (text: string): Uint8Array => {
  if (isNode) {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new TypeError("invalid base64");
    const bytes = Buffer.from(text, "base64");
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  }
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
};

/** Joins packets into a payload; binary (Blobs read first) becomes `b` + base64. */
const encode = async (frames: Frame[]): Promise<string> =>
  (frames.some((f) => f instanceof Blob)
    ? await Promise.all(
        frames.map(async (f) =>
          f instanceof Blob ? b64(new Uint8Array(await f.arrayBuffer())) : f,
        ),
      )
    : frames
  )
    .map((f) => (typeof f === "string" ? f : b64(f as Uint8Array)))
    .join(RECORD_SEPARATOR);

// atob throws on bad base64: the request then fails as a transport error.
const decode = (payload: string): RawData[] =>
  payload.split(RECORD_SEPARATOR).map((s) => (s[0] === "b" ? fromB64(s.slice(1)) : s));

// A packet's size in a payload: UTF-8 bytes of text (its length when it is ASCII), base64
// length of binary, plus separator.
const encoder = new TextEncoder();
const size = (f: Frame): number =>
  1 +
  (typeof f === "string"
    ? /[^\0-\x7f]/.test(f)
      ? encoder.encode(f).length
      : f.length
    : Math.ceil((f instanceof Blob ? f.size : f.length) / 3) * 4 + 1);

/** Splits frames into payloads of at most `max` bytes (one frame at least in each). */
function chunk(frames: Frame[], max: number): Frame[][] {
  const out: Frame[][] = [[]];
  let total = 0;
  for (const f of frames) {
    const n = max ? size(f) : 0;
    if (max && total && total + n > max) {
      out.push([]);
      total = 0;
    }
    out.at(-1)!.push(f);
    total += n;
  }
  return out;
}

/**
 * Long-polling, and the upgrade away from it: after the handshake it probes a WebSocket
 * (`2probe` / `3probe`), stops issuing requests, waits for those in flight, then sends `5`
 * and everything written meanwhile on the WebSocket and carries the session there.
 */
class Polling implements Transport {
  name = "polling";
  #sink: TransportSink;
  #o: TransportOptions;
  #closed = false;
  #opened = false;
  #getting = false;
  #posting = false;
  #queue: Frame[] = [];
  #seq = 0;
  // The session's maxPayload, from the handshake.
  #max = 0;
  #abort = new AbortController();
  // The WebSocket being probed, and once it answered, the pause waiting for idle.
  #probe: Transport | undefined;
  #onIdle: (() => void) | undefined;
  // The WebSocket the session moved to.
  #ws: Transport | undefined;

  constructor(sink: TransportSink, opts: TransportOptions) {
    this.#sink = sink;
    this.#o = opts;
    // After the current task, as the WebSocket transport starts (see there).
    queueMicrotask(() => !this.#closed && this.#poll());
  }

  send(frames: Frame[]): void {
    if (this.#ws) this.#ws.send(frames);
    else {
      this.#queue.push(...frames);
      void this.#post();
    }
  }

  close(): void {
    // An upgrade in progress is abandoned: what was held goes out by POST, then the close.
    this.#onIdle = undefined;
    this.#probe?.close();
    this.#ws?.close();
    const tell = !this.#closed && this.#opened && !this.#ws;
    this.#closed = true;
    // The server ends the pending GET when it gets the close; cutting it first would look
    // like a failure to it ("transport error") and could overtake a final DISCONNECT.
    if (tell) this.send([CLOSE]);
    else this.#abort.abort();
  }

  // After the handshake (engine.io-protocol v4 §upgrade): probe a WebSocket if allowed.
  #onOpen(handshake: string): void {
    const { maxPayload, upgrades } = JSON.parse(handshake) as {
      maxPayload: number;
      upgrades: string[];
    };
    const o = this.#o;
    this.#max = maxPayload;
    const allowed = (o.transports ?? ["websocket"]).includes("websocket") && o.upgrade !== false;
    if (!allowed || this.#closed || !upgrades?.includes("websocket")) return;
    const sink = this.#sink;
    const ws: Transport = websocket(
      {
        url: sink.url,
        open: () => ws.send([`${PING}probe`]),
        frame: (f) => {
          if (this.#ws) sink.frame(f);
          else if (f === `${PONG}probe`) this.#pause(ws);
          else ws.close();
        },
        close: (err) => {
          if (this.#ws) sink.close(err);
          // A probe failing after polling paused for it leaves nothing to carry the session.
          else if (this.#onIdle) this.#fail(err);
          this.#probe = undefined;
        },
      },
      this.#o,
    );
    this.#probe = ws;
  }

  #pause(ws: Transport): void {
    this.#onIdle = () => {
      this.#probe = undefined;
      this.#ws = ws;
      this.name = "websocket";
      ws.send([UPGRADE, ...this.#queue.splice(0)]);
    };
    this.#idle();
  }

  // Moves to the WebSocket once no request is in flight.
  #idle(): void {
    const done = this.#onIdle;
    if (done && !this.#getting && !this.#posting && !this.#ws) done();
  }

  #request(body?: string): Promise<string> {
    const o = this.#o;
    return httpRequest(`${this.#sink.url(this.name)}&t=${Date.now().toString(36)}.${this.#seq++}`, {
      method: body === undefined ? "GET" : "POST",
      body,
      headers: o.extraHeaders ?? {},
      withCredentials: o.withCredentials,
      signal: body === undefined ? this.#abort.signal : undefined,
      node: isNode ? nodeOptionsOf(o) : undefined,
    });
  }

  #fail(cause: unknown): void {
    if (!this.#closed)
      this.#sink.close(new TransportError("SB_ERR_TRANSPORT_ERROR", "xhr poll error", { cause }));
    this.#closed = true;
  }

  #poll(): void {
    this.#getting = true;
    this.#request()
      .then((payload) => {
        this.#getting = false;
        for (const f of decode(payload)) {
          if (this.#closed) return;
          this.#opened = true;
          // The server ended the session: nothing left to tell it.
          if (f === CLOSE) this.#closed = true;
          this.#sink.frame(f);
          if (f[0] === OPEN) this.#onOpen(f.slice(1) as string);
        }
        if (this.#onIdle) this.#idle();
        else if (!this.#closed) this.#poll();
      })
      .catch((err) => this.#fail(err));
  }

  // POSTs one payload at a time, in order, until the queue is empty or an upgrade pauses.
  async #post(): Promise<void> {
    if (this.#posting) return;
    this.#posting = true;
    try {
      while (this.#queue.length && !this.#onIdle) {
        for (const payload of chunk(this.#queue.splice(0), this.#max)) {
          await this.#request(await encode(payload));
        }
      }
    } catch (err) {
      this.#fail(err);
    }
    this.#posting = false;
    if (this.#closed) this.#abort.abort();
    this.#idle();
  }
}

/** Creates a polling transport; its first GET is the Engine.IO handshake. */
export const polling: TransportFactory = (sink, opts) => new Polling(sink, opts);
