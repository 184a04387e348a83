/**
 * The key client scenarios against our own server (`src/server`), as the other client
 * tests run them against an official socket.io server.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { type AddressInfo, Socket as TcpSocket } from "node:net";
import { afterEach, describe, it } from "node:test";
import { type IoOptions, io, type Socket } from "../src/client/index.js";
import { Server, type ServerOptions, type Socket as ServerSocket } from "../src/server/index.js";
import { waitFor } from "./client-helpers.js";

type Peer = ServerSocket;

const servers = new Set<Server>();
const clients = new Set<Socket>();

afterEach(async () => {
  for (const socket of clients) socket.io.disconnect();
  clients.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
});

async function start(
  port = 0,
  opts: ServerOptions = {},
): Promise<{ server: Server; url: string; port: number }> {
  const http = createServer();
  const server = new Server(http, opts);
  servers.add(server);
  await new Promise<void>((resolve) => http.listen(port, "127.0.0.1", resolve));
  const actual = (http.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${actual}`, port: actual };
}

async function stop(server: Server): Promise<void> {
  servers.delete(server);
  await server.close();
}

function connect(url: string, opts: IoOptions = {}): Socket {
  const socket = io(url, { forceNew: true, reconnection: false, ...opts });
  clients.add(socket);
  return socket;
}

/** A fresh server and a client connected to it with `opts`, both sides of the socket. */
async function connectedPair(opts: IoOptions = {}) {
  const { server, url, port } = await start();
  const serverSide = waitFor<[Peer]>(server, "connection");
  const socket = connect(url, opts);
  await waitFor(socket, "connect");
  const [peer] = await serverSide;
  return { server, url, port, socket, peer };
}

describe("client against the Switchboard server", () => {
  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    it(`connects and acks both ways (${transports})`, async () => {
      const { socket, peer } = await connectedPair({ transports });
      assert.equal(socket.id, peer.id);
      peer.on("add", (a: number, b: number, ack: (n: number) => void) => ack(a + b));
      assert.equal(await socket.emitWithAck("add", 2, 3), 5);
      socket.on("ask", (q: unknown, ack: unknown) => (ack as (a: string) => void)(`re ${q}`));
      assert.equal(await peer.timeout(2000).emitWithAck("ask", "x"), "re x");
    });
  }

  it("upgrades to websocket", async () => {
    const { socket, peer } = await connectedPair();
    if (peer.conn.transport.name !== "websocket") await waitFor(peer.conn, "upgrade");
    assert.equal(socket.io.engine?.transport.name, "websocket");
    peer.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
    assert.equal(await socket.emitWithAck("echo", "after upgrade"), "after upgrade");
  });

  it("carries binary both ways", async () => {
    const { socket, peer } = await connectedPair({ transports: ["websocket"] });
    const got = waitFor<unknown[]>(peer, "bin");
    socket.emit("bin", Buffer.from([1, 2]), { nested: new Uint8Array([3]).buffer });
    const [a, b] = await got;
    assert.deepEqual([...new Uint8Array(a as Uint8Array)], [1, 2]);
    assert.deepEqual([...new Uint8Array((b as { nested: Uint8Array }).nested)], [3]);
    const back = waitFor<unknown[]>(socket, "bin");
    peer.emit("bin", Buffer.from([4]));
    assert.deepEqual([...((await back)[0] as Uint8Array)], [4]);
  });

  it("shares one connection between namespaces", async () => {
    const { server, url } = await start();
    server.of("/admin");
    const a = io(url, { reconnection: false });
    const b = io(`${url}/admin`, { reconnection: false });
    clients.add(a);
    clients.add(b);
    assert.equal(a.io, b.io);
    await Promise.all([waitFor(a, "connect"), waitFor(b, "connect")]);
    assert.equal(server.engine.clientsCount, 1);
  });

  it("reports a middleware refusal with data, then joins with new auth", async () => {
    const { server, url } = await start();
    server.use((socket, next) => {
      if ((socket.handshake.auth as { token?: string }).token === "good") return next();
      next(Object.assign(new Error("not authorized"), { data: { retry: true } }));
    });
    const socket = connect(url, { auth: { token: "bad" } });
    const [err] = await waitFor<[Error & { data?: unknown }]>(socket, "connect_error");
    assert.equal(err.message, "not authorized");
    assert.deepEqual(err.data, { retry: true });
    socket.auth = { token: "good" };
    socket.connect();
    await waitFor(socket, "connect");
  });

  it("does not reconnect after a server-side disconnect", async () => {
    const { socket, peer } = await connectedPair({
      reconnection: true,
      reconnectionDelay: 10,
    });
    const gone = waitFor(socket, "disconnect");
    peer.disconnect();
    assert.equal((await gone)[0], "io server disconnect");
    assert.equal(socket.active, false);
  });

  it("delivers emits buffered across a server restart exactly once, in order", async () => {
    const first = await start();
    const socket = connect(first.url, {
      reconnection: true,
      reconnectionDelay: 20,
      reconnectionDelayMax: 40,
      transports: ["websocket"],
    });
    await waitFor(socket, "connect");
    const gone = waitFor(socket, "disconnect");
    await stop(first.server);
    await gone;
    for (let i = 0; i < 10; i++) socket.emit("n", i);
    const second = await start(first.port);
    const received: number[] = [];
    second.server.on("connection", (peer: Peer) => {
      peer.on("n", (i: number) => received.push(i));
      peer.on("barrier", (ack: () => void) => ack());
    });
    await waitFor(socket.io, "reconnect");
    await socket.emitWithAck("barrier");
    assert.deepEqual(
      received,
      Array.from({ length: 10 }, (_, i) => i),
    );
  });

  it("answers the server's heartbeat", async () => {
    const { url } = await start(0, { pingInterval: 30, pingTimeout: 30 });
    const socket = connect(url, { transports: ["websocket"] });
    await waitFor(socket, "connect");
    for (let i = 0; i < 4; i++) await waitFor(socket.io, "ping", 500);
    assert.equal(socket.connected, true);
  });

  it("retries a slow emit with one ack id: the handler runs once and its late ack resolves the emit", async () => {
    const { server, url } = await start();
    const seen: string[] = [];
    server.on("connection", (peer: Peer) => {
      peer.on("job", (v: string, ack: (r: string) => void) => {
        seen.push(v);
        setTimeout(() => ack(`done ${v}`), 130); // slower than two ack timeouts
      });
    });
    const socket = connect(url, { ackTimeout: 50, retries: 3, transports: ["websocket"] });
    await waitFor(socket, "connect");
    assert.equal(await socket.emitWithAck("job", "a"), "done a");
    assert.deepEqual(seen, ["a"]); // the resends were recognised as duplicates
  });

  it("sends the replies to a burst of packets in one TCP write (Node's ws)", async () => {
    const { port, socket, peer } = await connectedPair({ transports: ["websocket"] });
    const replies: number[] = [];
    const allReplied = new Promise<void>((resolve) =>
      peer.on("reply", (n: number) => replies.push(n) === 5 && resolve()),
    );
    socket.on("tick", (n: number) => socket.emit("reply", n));
    // Without batching, 5 replies are 5 writes.
    const writes = countWrites(port);
    try {
      for (let i = 0; i < 5; i++) peer.emit("tick", i); // one turn: one server write
      await allReplied;
    } finally {
      writes.stop();
    }
    assert.deepEqual(replies, [0, 1, 2, 3, 4]);
    assert.equal(writes.count, 1);
  });

  for (const [name, size] of [
    ["small emits, joined into one buffer", 10],
    ["emits of 100 KB in all, corked around their writes", 25_000],
  ] as const) {
    it(`sends a burst made outside any read (a timer) in one TCP write: ${name}`, async () => {
      const { port, socket, peer } = await connectedPair({
        transports: ["websocket"],
      });
      const got: string[] = [];
      const allGot = new Promise<void>((resolve) =>
        peer.on("n", (text: string) => got.push(text) === 5 && resolve()),
      );
      const texts = Array.from({ length: 5 }, (_, i) => String(i).repeat(size));
      const writes = countWrites(port);
      try {
        setTimeout(() => {
          for (const text of texts) socket.emit("n", text);
        }, 10);
        await allGot;
      } finally {
        writes.stop();
      }
      assert.deepEqual(got, texts);
      assert.equal(writes.count, 1);
    });
  }

  it("goes on delivering after a listener throws, and rethrows the error outside the read loop", () => {
    // In a child: the test runner fails any test during which an uncaught exception happens.
    const script = `
      import { createServer } from "node:http";
      import { io } from "${new URL("../src/client/index.ts", import.meta.url).pathname}";
      import { Server } from "${new URL("../src/server/index.ts", import.meta.url).pathname}";
      const seen = [];
      process.on("uncaughtException", (err) => seen.push("uncaught " + err.message));
      const http = createServer();
      const server = new Server(http);
      await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
      server.on("connection", (peer) => { peer.emit("a"); peer.emit("b", "still here"); });
      const socket = io("http://127.0.0.1:" + http.address().port, { transports: ["websocket"] });
      socket.on("a", () => { throw new Error("listener failed"); });
      socket.on("b", (v) => seen.push(v));
      await new Promise((resolve) => setTimeout(resolve, 300));
      seen.push(socket.connected ? "connected" : "disconnected");
      console.log(JSON.stringify(seen));
      socket.disconnect();
      await server.close();`;
    const child = spawnSync(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      { encoding: "utf8", timeout: 10_000 },
    );
    assert.equal(child.status, 0, child.stderr);
    // Both packets come in one read, so the rethrow comes after "b"; if they came in two,
    // before it: either order is right.
    const seen = JSON.parse(child.stdout) as string[];
    assert.deepEqual(seen.slice(0, 2).sort(), ["still here", "uncaught listener failed"]);
    assert.equal(seen[2], "connected");
  });

  it("offers no permessage-deflate in Node, and sends the extraHeaders it is given", async () => {
    const { peer } = await connectedPair({
      transports: ["websocket"],
      extraHeaders: { "x-app": "demo" },
    });
    assert.equal(peer.handshake.headers["sec-websocket-extensions"], undefined);
    assert.equal(peer.handshake.headers["x-app"], "demo");
  });
});

/**
 * Counts the writes (`_write` or `_writev`, each one system call at most) of the TCP sockets
 * whose peer port is `port`: a client's, on a server listening there.
 */
function countWrites(port: number): { readonly count: number; stop(): void } {
  const proto = TcpSocket.prototype as unknown as {
    _write: (...a: unknown[]) => unknown;
    _writev: (...a: unknown[]) => unknown;
  };
  const original = { write: proto._write, writev: proto._writev };
  const counter = {
    count: 0,
    stop() {
      proto._write = original.write;
      proto._writev = original.writev;
    },
  };
  proto._write = function (this: TcpSocket, ...a: unknown[]) {
    if (this.remotePort === port) counter.count++;
    return original.write.apply(this, a);
  };
  proto._writev = function (this: TcpSocket, ...a: unknown[]) {
    if (this.remotePort === port) counter.count++;
    return original.writev.apply(this, a);
  };
  return counter;
}
