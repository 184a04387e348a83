/**
 * Helpers for the client tests: an official `socket.io` server on 127.0.0.1 (port 0 unless
 * given), our client connected to it, event waits that fail after a timeout, and teardown.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type ServerOptions } from "socket.io";
import { type IoOptions, io, type Socket } from "../src/client/index.js";

/** A running official socket.io server. */
export interface OfficialServer {
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  /** Stops the server and drops every connection at once. */
  close(): Promise<void>;
}

const servers = new Set<OfficialServer>();
const clients = new Set<Socket>();

/** Starts an official socket.io server on 127.0.0.1. */
export async function startOfficial(
  opts: Partial<ServerOptions> = {},
  port = 0,
): Promise<OfficialServer> {
  const http = createServer();
  const ioServer = new Server(http, opts);
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", resolve);
  });
  const actual = (http.address() as AddressInfo).port;
  const server: OfficialServer = {
    io: ioServer,
    http,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        servers.delete(server);
        ioServer.close(() => resolve());
        http.closeAllConnections();
      }),
  };
  servers.add(server);
  return server;
}

/** Connects our client (a new Manager each time, reconnection off unless asked). */
export function connect(url: string, opts: IoOptions = {}): Socket {
  const socket = io(url, { forceNew: true, reconnection: false, ...opts });
  clients.add(socket);
  return socket;
}

/** Disconnects every client and closes every server the helpers made. Call in afterEach. */
export async function cleanup(): Promise<void> {
  for (const socket of clients) socket.io.disconnect();
  clients.clear();
  await Promise.all([...servers].map((s) => s.close()));
}

/** Anything with `once` and `off`: our emitters, Node emitters. */
export interface Waitable {
  once(ev: never, fn: never): unknown;
  off(ev: never, fn: never): unknown;
}

/** Resolves with the arguments of the next `ev` from `target`, or rejects after `ms`. */
export function waitFor<T extends unknown[] = unknown[]>(
  target: Waitable,
  ev: string,
  ms = 3000,
): Promise<T> {
  const t = target as unknown as {
    once(ev: string, fn: (...args: unknown[]) => void): unknown;
    off(ev: string, fn: (...args: unknown[]) => void): unknown;
  };
  return new Promise<T>((resolve, reject) => {
    const fn = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      t.off(ev, fn);
      reject(new Error(`timed out after ${ms} ms waiting for "${ev}"`));
    }, ms);
    t.once(ev, fn);
  });
}
