/**
 * Loopback test harness: a Switchboard server on 127.0.0.1 port 0, official
 * `socket.io-client` connections to it, and event waits that fail loudly after a timeout.
 */
import { once } from "node:events";
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type Socket as ClientSocket,
  io as ioc,
  type ManagerOptions,
  type SocketOptions,
} from "socket.io-client";
import { Server, type ServerOptions } from "../../src/server/index.js";

/** A running server and everything to tear it down. */
export interface TestServer {
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  /** Connects an official socket.io-client to a namespace of this server. */
  client(nsp?: string, opts?: Partial<ManagerOptions & SocketOptions>): ClientSocket;
  close(): Promise<void>;
}

const openClients = new Set<ClientSocket>();

/** Starts a server on 127.0.0.1, port 0 unless given. */
export async function startServer(opts: ServerOptions = {}, port = 0): Promise<TestServer> {
  const http = createServer();
  const io = new Server(http, opts);
  http.listen(port, "127.0.0.1");
  await once(http, "listening");
  const actual = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${actual}`;
  return {
    io,
    http,
    port: actual,
    url,
    client(nsp = "/", clientOpts = {}) {
      const socket = ioc(`${url}${nsp}`, { forceNew: true, reconnection: false, ...clientOpts });
      openClients.add(socket);
      return socket;
    },
    close: () => io.close(),
  };
}

/** Disconnects every client opened through the harness. Call in afterEach. */
export function closeClients(): void {
  for (const socket of openClients) socket.disconnect();
  openClients.clear();
}

/** A listener checked bivariantly (method form), so any emitter's listener type fits. */
type Listener = { bivariant(...args: unknown[]): void }["bivariant"];

/** Anything with once/off/on: Node emitters, socket.io-client sockets, our sockets. */
interface Emitterish {
  once(ev: string, fn: Listener): unknown;
  off(ev: string, fn: Listener): unknown;
}

/** Resolves with the arguments of the next `ev` event; rejects after `ms`. */
export function waitFor<T extends unknown[] = unknown[]>(
  target: Emitterish,
  ev: string,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const onEvent = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as unknown as T);
    };
    const timer = setTimeout(() => {
      target.off(ev, onEvent);
      reject(new Error(`timed out after ${ms} ms waiting for "${ev}"`));
    }, ms);
    target.once(ev, onEvent);
  });
}

/** Resolves once `count` events named `ev` arrived, with each one's first argument. */
export function collect<T = unknown>(
  target: Emitterish & { on(ev: string, fn: Listener): unknown },
  ev: string,
  count: number,
  ms = 3000,
): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const seen: T[] = [];
    const onEvent = (...args: unknown[]) => {
      seen.push(args[0] as T);
      if (seen.length === count) {
        clearTimeout(timer);
        target.off(ev, onEvent);
        resolve(seen);
      }
    };
    const timer = setTimeout(() => {
      target.off(ev, onEvent);
      reject(new Error(`timed out after ${ms} ms: ${seen.length}/${count} "${ev}" events`));
    }, ms);
    target.on(ev, onEvent);
  });
}

/** Resolves when the client connected; rejects with its connect_error. */
export function connected(socket: ClientSocket, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    const timer = setTimeout(() => reject(new Error(`connect timed out after ${ms} ms`)), ms);
    socket.once("connect", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
