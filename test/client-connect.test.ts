import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { Socket as ServerSocket } from "socket.io";
import { WebSocket as NodeWebSocket } from "ws";
import { io, Manager } from "../src/client/index.js";
import { cleanup, connect, startOfficial, waitFor } from "./client-helpers.js";

afterEach(cleanup);

describe("client connects to an official socket.io server", () => {
  for (const transports of [["polling"], ["websocket"]]) {
    it(`over ${transports[0]} only`, async () => {
      const server = await startOfficial();
      const serverSide = waitFor<[ServerSocket]>(server.io, "connection");
      const socket = connect(server.url, { transports });
      await waitFor(socket, "connect");
      const [peer] = await serverSide;
      assert.equal(socket.connected, true);
      assert.equal(socket.disconnected, false);
      assert.equal(socket.id, peer.id);
      assert.equal(socket.io.engine?.transport.name, transports[0]);
      assert.equal(peer.conn.transport.name, transports[0]);
      const echoed = waitFor(socket, "echo");
      peer.on("echo", (...args) => peer.emit("echo", ...args));
      socket.emit("echo", "hi", { n: 1 }, [true, null]);
      assert.deepEqual(await echoed, ["hi", { n: 1 }, [true, null]]);
    });
  }

  it("upgrades from polling to websocket and keeps talking", async () => {
    const server = await startOfficial();
    const serverSide = waitFor<[ServerSocket]>(server.io, "connection");
    const socket = connect(server.url);
    await waitFor(socket, "connect");
    const [peer] = await serverSide;
    if (peer.conn.transport.name !== "websocket") await waitFor(peer.conn, "upgrade");
    assert.equal(socket.io.engine?.transport.name, "websocket");
    peer.on("ping-me", (n: number) => peer.emit("pong-you", n + 1));
    for (let i = 0; i < 5; i++) {
      const reply = waitFor(socket, "pong-you");
      socket.emit("ping-me", i);
      assert.deepEqual(await reply, [i + 1]);
    }
  });

  it("shares one connection between namespaces of the same origin", async () => {
    const server = await startOfficial();
    server.io.of("/admin");
    const a = io(server.url, { reconnection: false });
    const b = io(`${server.url}/admin`, { reconnection: false });
    try {
      assert.equal(a.io, b.io);
      assert.ok(a.io instanceof Manager);
      await Promise.all([waitFor(a, "connect"), waitFor(b, "connect")]);
      assert.equal(server.io.engine.clientsCount, 1);
      assert.equal(server.io.of("/admin").sockets.size, 1);
      // A second socket for an already used namespace gets its own connection.
      const c = io(server.url, { reconnection: false });
      assert.notEqual(c.io, a.io);
      await waitFor(c, "connect");
      assert.equal(server.io.engine.clientsCount, 2);
      c.disconnect();
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it("forceNew and multiplex: false open separate connections", async () => {
    const server = await startOfficial();
    server.io.of("/admin");
    const a = connect(server.url);
    const b = connect(`${server.url}/admin`, { multiplex: false, forceNew: false });
    assert.notEqual(a.io, b.io);
    await Promise.all([waitFor(a, "connect"), waitFor(b, "connect")]);
    assert.equal(server.io.engine.clientsCount, 2);
  });

  it("reports a middleware refusal with its message and data, then joins with new auth", async () => {
    const server = await startOfficial();
    server.io.use((socket, next) => {
      if (socket.handshake.auth.token === "good") return next();
      next(Object.assign(new Error("not authorized"), { data: { retry: true } }));
    });
    const socket = connect(server.url, { auth: { token: "bad" } });
    const [err] = await waitFor<[Error & { data?: unknown }]>(socket, "connect_error");
    assert.equal(err.message, "not authorized");
    assert.deepEqual(err.data, { retry: true });
    assert.equal(socket.active, false);
    socket.auth = { token: "good" };
    socket.connect();
    await waitFor(socket, "connect");
    assert.equal(socket.connected, true);
  });

  it("evaluates an auth function on every connection", async () => {
    const server = await startOfficial();
    const seen: unknown[] = [];
    server.io.use((socket, next) => {
      seen.push(socket.handshake.auth);
      next();
    });
    let n = 0;
    const socket = connect(server.url, { auth: (cb) => cb({ n: ++n }) });
    await waitFor(socket, "connect");
    socket.disconnect();
    socket.connect();
    await waitFor(socket, "connect");
    assert.deepEqual(seen, [{ n: 1 }, { n: 2 }]);
  });

  it("uses the disconnect reasons of socket.io-client", async () => {
    const server = await startOfficial();
    const serverSide = waitFor<[ServerSocket]>(server.io, "connection");
    const socket = connect(server.url, { reconnection: true });
    await waitFor(socket, "connect");
    const [peer] = await serverSide;
    const gone = waitFor(socket, "disconnect");
    peer.disconnect();
    assert.deepEqual(await gone, ["io server disconnect", undefined]);
    assert.equal(socket.active, false);
    // The Manager closes (its only socket left) and does not reconnect by itself.
    await waitFor(peer.conn, "close");
    let attempts = 0;
    socket.io.on("reconnect_attempt", () => attempts++);
    socket.connect();
    await waitFor(socket, "connect");
    assert.equal(attempts, 0);
    const [peer2] = [...server.io.sockets.sockets.values()];
    const serverGone = waitFor(peer2!, "disconnect");
    const clientGone = waitFor(socket, "disconnect");
    socket.disconnect();
    assert.deepEqual(await clientGone, ["io client disconnect", undefined]);
    assert.equal((await serverGone)[0], "client namespace disconnect");
  });

  it("passes query parameters and extra headers", async () => {
    const server = await startOfficial();
    const serverSide = waitFor<[ServerSocket]>(server.io, "connection");
    const socket = connect(`${server.url}?room=blue`, { extraHeaders: { "x-team": "red" } });
    await waitFor(socket, "connect");
    const [peer] = await serverSide;
    assert.equal(peer.handshake.query.room, "blue");
    assert.equal(peer.handshake.headers["x-team"], "red");
  });

  // Browsers use their own: test/client-browser.test.ts runs the bundle in Chromium.
  it("uses the `ws` package in Node even where Node has a WebSocket (22+)", async (t) => {
    let made = 0;
    class PlatformWebSocket extends NodeWebSocket {
      constructor(url: string, init?: { headers?: Record<string, string> }) {
        super(url, init);
        made++;
      }
    }
    const g = globalThis as { WebSocket?: unknown };
    const before = g.WebSocket;
    g.WebSocket = PlatformWebSocket;
    t.after(() => {
      g.WebSocket = before;
    });
    const server = await startOfficial();
    const serverSide = waitFor<[ServerSocket]>(server.io, "connection");
    const socket = connect(server.url, { transports: ["websocket"], extraHeaders: { "x-a": "1" } });
    await waitFor(socket, "connect");
    const [peer] = await serverSide;
    assert.equal(made, 0);
    assert.equal(peer.handshake.headers["x-a"], "1");
  });

  it("fails with connect_error when nothing listens, and gives up after the attempts", async () => {
    const server = await startOfficial();
    const url = server.url;
    await server.close();
    const socket = connect(url, {
      reconnection: true,
      reconnectionAttempts: 2,
      reconnectionDelay: 10,
      reconnectionDelayMax: 20,
    });
    const [err] = await waitFor<[Error]>(socket, "connect_error");
    assert.equal(err.message, "xhr poll error");
    await waitFor(socket.io, "reconnect_failed");
  });
});

describe("client module loading in Node", () => {
  it("starts loading its Node WebSocket with the client, before any connection", async () => {
    // A fresh process: this one has everything loaded already. The Node WebSocket module is
    // the only one of the client's to load node:tls (for wss:), so tls being loaded shows it.
    const { execFile } = await import("node:child_process");
    const script = [
      'await import("./src/client/index.ts");',
      "await new Promise((resolve) => setTimeout(resolve, 300));",
      'process.stdout.write(String(process.moduleLoadList.includes("NativeModule tls")));',
    ].join("\n");
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        { cwd: new URL("..", import.meta.url).pathname, timeout: 20_000 },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });
    assert.equal(out, "true");
  });
});
