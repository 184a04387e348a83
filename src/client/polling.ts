/**
 * The HTTP long-polling transport over `fetch` (engine.io-protocol v4 §polling): one GET in
 * flight to receive, POSTs serialised to send, packets joined with `\x1e` and binary sent as
 * base64 behind a `b`. Each POST stays under the session's `maxPayload`.
 */
import { TransportError } from "../errors.js";
import { type RawData, RECORD_SEPARATOR } from "../protocol/engine-packet.js";
import type { TransportFactory } from "./transport.js";
import { CLOSE } from "./wire.js";

const encode = (frames: RawData[]): string =>
  frames
    .map((f) =>
      typeof f === "string" ? f : `b${btoa(Array.from(f, (b) => String.fromCharCode(b)).join(""))}`,
    )
    .join(RECORD_SEPARATOR);

// atob throws on bad base64: the request then fails as a transport error.
const decode = (payload: string): RawData[] =>
  payload
    .split(RECORD_SEPARATOR)
    .map((s) => (s[0] === "b" ? Uint8Array.from(atob(s.slice(1)), (c) => c.charCodeAt(0)) : s));

// A packet's size in a payload: UTF-8 bytes of text, base64 length of binary, plus separator.
const size = (f: RawData): number =>
  1 + (typeof f === "string" ? new Blob([f]).size : Math.ceil(f.length / 3) * 4 + 1);

/** Splits frames into payloads of at most `max` bytes (one frame at least in each). */
function chunk(frames: RawData[], max: number): RawData[][] {
  const out: RawData[][] = [[]];
  let total = 0;
  for (const f of frames) {
    const n = size(f);
    if (max && total && total + n > max) {
      out.push([]);
      total = 0;
    }
    out.at(-1)!.push(f);
    total += n;
  }
  return out;
}

/** Creates a polling transport; its first GET is the Engine.IO handshake. */
export const polling: TransportFactory = (sink, opts) => {
  let closed = false;
  let opened = false;
  let getting = false;
  let posting = false;
  let onIdle: (() => void) | undefined;
  let seq = 0;
  const queue: RawData[] = [];
  const abort = new AbortController();
  const request = (body?: string): Promise<string> =>
    fetch(`${sink.url()}&t=${Date.now().toString(36)}.${seq++}`, {
      method: body ? "POST" : "GET",
      body: body ?? null,
      headers: opts.extraHeaders ?? {},
      credentials: opts.withCredentials ? "include" : "same-origin",
      signal: body ? null : abort.signal,
    }).then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))));
  const fail = (cause: unknown) => {
    if (!closed)
      sink.close(new TransportError("SB_ERR_TRANSPORT_ERROR", "xhr poll error", { cause }));
    closed = true;
  };
  // Calls the pause callback once nothing is in flight; polling stays stopped afterwards.
  const idle = () => {
    const done = onIdle;
    if (done && !getting && !posting) {
      onIdle = () => {};
      done();
    }
  };
  const poll = () => {
    getting = true;
    request()
      .then((payload) => {
        getting = false;
        for (const f of decode(payload)) {
          if (closed) return;
          opened = true;
          if (f === CLOSE) closed = true; // the server ended the session: nothing to tell it
          sink.frame(f);
        }
        onIdle ? idle() : closed || poll();
      })
      .catch(fail);
  };
  // POSTs one payload at a time, in order, until the queue is empty.
  const post = async () => {
    if (posting) return;
    posting = true;
    try {
      while (queue.length) {
        for (const payload of chunk(queue.splice(0), sink.max())) await request(encode(payload));
      }
    } catch (err) {
      return fail(err);
    }
    posting = false;
    idle();
  };
  poll();
  return {
    name: "polling",
    send(frames) {
      queue.push(...frames);
      void post();
    },
    pause(done) {
      onIdle = done;
      idle();
    },
    close() {
      if (!closed && opened) this.send([CLOSE]);
      closed = true;
      abort.abort();
    },
  };
};
