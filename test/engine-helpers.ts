/**
 * Shared helpers of the `test/engine-*.test.ts` integration tests: an EngineServer on a real
 * HTTP server on 127.0.0.1 port 0, official `engine.io-client` sockets, and event waits with
 * timeouts.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Socket as ClientSocket, type SocketOptions } from "engine.io-client";
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
    nextConnection: () => waitFor<[EngineSocket]>(engine, "connection").then(([s]) => s),
    async stop() {
      for (const client of clients) client.close();
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
