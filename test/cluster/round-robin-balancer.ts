/**
 * A tiny HTTP load balancer on 127.0.0.1 for the no-sticky-sessions tests: every HTTP
 * request and every WebSocket upgrade goes to the next backend in turn, with no affinity
 * of any kind (no cookie, no source-IP hash), as a plain round-robin balancer would.
 *
 * HTTP requests are proxied one by one (a fresh upstream request each, so a long-poll GET
 * never holds a connection another request needs); when the client goes away before the
 * response, the upstream request is destroyed too, as a real proxy does. Upgrades are
 * piped as raw TCP once the request head is written upstream.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

/** A running balancer. */
export interface Balancer {
  readonly url: string;
  /** HTTP requests sent to each backend, in backend order. */
  readonly requests: number[];
  /** Upgrades sent to each backend, in backend order. */
  readonly upgrades: number[];
  close(): Promise<void>;
}

/** Starts a round-robin balancer in front of `backends` (ports on 127.0.0.1). */
export async function startRoundRobinBalancer(backends: readonly number[]): Promise<Balancer> {
  let next = 0;
  const pick = (): number => next++ % backends.length;
  const requests = backends.map(() => 0);
  const upgrades = backends.map(() => 0);
  const sockets = new Set<Duplex>();
  const server = createServer((req, res) => {
    const index = pick();
    requests[index] = (requests[index] ?? 0) + 1;
    proxyRequest(req, res, backends[index] ?? 0);
  });
  server.on("upgrade", (req: IncomingMessage, client: Duplex, head: Buffer) => {
    const index = pick();
    upgrades[index] = (upgrades[index] ?? 0) + 1;
    proxyUpgrade(req, client, head, backends[index] ?? 0, sockets);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    upgrades,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Forwards one HTTP request to the backend on `port` and its response back. */
function proxyRequest(req: IncomingMessage, res: ServerResponse, port: number): void {
  const upstream = request(
    {
      host: "127.0.0.1",
      port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    },
  );
  upstream.on("error", () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.pipe(upstream);
}

/** Pipes an upgrade to the backend on `port`, both ways; the two sockets join `sockets`. */
function proxyUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  port: number,
  sockets: Set<Duplex>,
): void {
  const upstream: Socket = connect(port, "127.0.0.1", () => {
    upstream.write(requestHead(req));
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client).pipe(upstream);
  });
  for (const socket of [client, upstream]) {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => {
      sockets.delete(socket);
      client.destroy();
      upstream.destroy();
    });
  }
}

function requestHead(req: IncomingMessage): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  return `${head}\r\n`;
}
