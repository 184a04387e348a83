/**
 * Shared helpers of the `test/engine-*.test.ts` integration tests: an EngineServer on a real
 * HTTP server on 127.0.0.1 port 0, official `engine.io-client` sockets, and event waits with
 * timeouts.
 */
import { once } from "node:events";
import {
  createServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  request,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { Socket as ClientSocket, type SocketOptions } from "engine.io-client";
import { type ClientOptions, WebSocket } from "ws";
import { EngineServer, type EngineServerOptions, type EngineSocket } from "../src/engine/index.js";

/** A running EngineServer and everything needed to reach and stop it. */
export interface EngineHarness {
  readonly engine: EngineServer;
  readonly http: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Full URL of the engine path with `EIO=4` and any extra query. */
  url(query?: string): string;
  /** Connects an official engine.io-client socket and tracks it for `stop()`. */
  connect(options?: Partial<SocketOptions>): ClientSocket;
  /** Opens a raw `ws` client on the engine path with `EIO=4` and `query`; closed by `stop()`. */
  rawWebSocket(query: string): RawWebSocket;
  /** Resolves with the next server-side session. */
  nextConnection(): Promise<EngineSocket>;
  /** Closes clients, the engine and the HTTP server. */
  stop(): Promise<void>;
}

/** Starts an EngineServer attached to a fresh HTTP server on 127.0.0.1:0. */
export async function startEngine(options: EngineServerOptions = {}): Promise<EngineHarness> {
  const http = createServer();
  const engine = new EngineServer(options).attach(http);
  http.listen(0, "127.0.0.1");
  await once(http, "listening");
  const port = (http.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  const path = engine.options.path;
  const clients: ClientSocket[] = [];
  const raws: RawWebSocket[] = [];
  return {
    engine,
    http,
    port,
    origin,
    url: (query = "") => `${origin}${path}/?EIO=4${query}`,
    connect(clientOptions = {}) {
      const socket = new ClientSocket(origin, { path, ...clientOptions });
      clients.push(socket);
      return socket;
    },
    rawWebSocket(query) {
      const raw = new RawWebSocket(`ws://127.0.0.1:${port}${path}/?EIO=4${query}`);
      raws.push(raw);
      return raw;
    },
    nextConnection: () => waitFor<[EngineSocket]>(engine, "connection").then(([s]) => s),
    async stop() {
      for (const client of clients) client.close();
      for (const raw of raws) raw.ws.terminate();
      await engine.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * Anything with `once`/`off` listener methods. Typed loosely on purpose: Node emitters and
 * engine.io-client sockets declare incompatible typed-event signatures.
 */
interface Emitterish {
  once: Function;
  off: Function;
}

/** Resolves with the arguments of the next `event`, or rejects after `ms` milliseconds. */
export function waitFor<T extends unknown[] = unknown[]>(
  emitter: Emitterish,
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (...args: never[]): void => {
      clearTimeout(timer);
      resolve(args as unknown as T);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for "${event}"`));
    }, ms);
    emitter.once(event, listener);
  });
}

/** Resolves with the name of whichever of `events` fires first, or rejects after `ms`. */
export function waitForAny(
  emitter: Emitterish,
  events: readonly string[],
  ms = 3000,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const listeners = events.map((event) => {
      const listener = (): void => {
        cleanup();
        resolve(event);
      };
      emitter.once(event, listener);
      return [event, listener] as const;
    });
    const cleanup = (): void => {
      clearTimeout(timer);
      for (const [event, listener] of listeners) emitter.off(event, listener);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for any of ${events.join(", ")}`));
    }, ms);
  });
}

/** Resolves once `predicate()` holds, polling every 5 ms; rejects after `ms`. */
export async function until(
  predicate: () => boolean,
  ms = 3000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A raw HTTP response with its body fully read. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body as UTF-8 text. */
  readonly text: string;
}

/** Sends one raw HTTP request (no automatic decompression, unlike `fetch`). */
export function httpRequest(
  url: string,
  options: { method?: string; body?: string | Buffer; headers?: OutgoingHttpHeaders } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? "GET", headers: options.headers });
    req.setTimeout(3000, () => req.destroy(new Error(`request to ${url} timed out`)));
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString() });
      });
    });
    req.end(options.body);
  });
}

/** Performs a raw polling handshake; returns the sid and the parsed open packet. */
export async function pollingHandshake(
  harness: EngineHarness,
): Promise<{ sid: string; open: Record<string, unknown> }> {
  const res = await httpRequest(harness.url("&transport=polling"));
  if (res.status !== 200 || !res.text.startsWith("0")) {
    throw new Error(`handshake failed: ${res.status} ${res.text}`);
  }
  const open = JSON.parse(res.text.slice(1)) as Record<string, unknown>;
  return { sid: String(open.sid), open };
}

/** A raw `ws` client that queues every frame it receives. */
export class RawWebSocket {
  readonly ws: WebSocket;
  readonly #frames: (string | Buffer)[] = [];
  readonly #waiters: ((frame: string | Buffer) => void)[] = [];

  constructor(url: string, options?: ClientOptions) {
    this.ws = new WebSocket(url, options);
    this.ws.on("error", () => {});
    this.ws.on("message", (data: Buffer, isBinary) => {
      const frame = isBinary ? data : data.toString();
      const waiter = this.#waiters.shift();
      if (waiter) waiter(frame);
      else this.#frames.push(frame);
    });
  }

  /** Resolves once the WebSocket is open. */
  async opened(): Promise<void> {
    if (this.ws.readyState !== WebSocket.OPEN) await waitFor(this.ws, "open");
  }

  /** Resolves with the next frame received, or rejects after `ms`. */
  next(ms = 3000): Promise<string | Buffer> {
    const queued = this.#frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timed out waiting for a frame")), ms);
      this.#waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
    });
  }

  /** Resolves with the close code once the connection has closed. */
  async closed(ms = 3000): Promise<number> {
    if (this.ws.readyState === WebSocket.CLOSED) return -1;
    const [code] = await waitFor<[number]>(this.ws, "close", ms);
    return code;
  }
}

/** The refused upgrade's HTTP status and body, as seen by a `ws` client. */
export function refusedUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("open", () => reject(new Error("upgrade unexpectedly accepted")));
    ws.on("error", () => {});
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
      res.on("error", reject);
    });
  });
}
