// Namespaces (static and dynamic) and connection middleware, with socket.io-client.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import { closeClients, startServer, type TestServer, waitFor } from "./support/harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  closeClients();
  await server?.close();
  server = undefined;
});

function connectError(socket: ClientSocket): Promise<Error & { data?: unknown }> {
  return waitFor<[Error & { data?: unknown }]>(socket, "connect_error").then(([err]) => err);
}

describe("namespaces", () => {
  test("a client joins a custom namespace; events stay in it", async () => {
    server = await startServer();
    const mainSeen: string[] = [];
    server.io.on("connection", (socket) => mainSeen.push(socket.id));
    server.io.of("/admin").on("connection", (socket) => socket.emit("where", socket.nsp.name));
    const admin = server.client("/admin");
    const [where] = await waitFor(admin, "where");
    assert.equal(where, "/admin");
    assert.deepEqual(mainSeen, []);
  });

  test('an unknown namespace gets connect_error "Invalid namespace" and others keep working', async () => {
    server = await startServer();
    server.io.on("connection", (socket) => socket.emit("ok"));
    const bad = server.client("/nope");
    const err = await connectError(bad);
    assert.equal(err.message, "Invalid namespace");
    const good = server.client("/");
    await waitFor(good, "ok");
  });

  test("dynamic namespaces by regular expression", async () => {
    server = await startServer();
    const parent = server.io.of(/^\/room-\d+$/);
    parent.on("connection", (socket) => socket.emit("joined", socket.nsp.name));
    const a = server.client("/room-1");
    const b = server.client("/room-22");
    assert.equal((await waitFor(a, "joined"))[0], "/room-1");
    assert.equal((await waitFor(b, "joined"))[0], "/room-22");
    const got = waitFor(a, "news");
    parent.emit("news", 1);
    assert.equal((await got)[0], 1);
    const err = await connectError(server.client("/room-x"));
    assert.equal(err.message, "Invalid namespace");
  });

  test("dynamic namespaces by function, with auth", async () => {
    server = await startServer();
    server.io
      .of((name, auth, next) =>
        next(null, name.startsWith("/team-") && (auth as { ok?: boolean }).ok === true),
      )
      .on("connection", (socket) => socket.emit("in", socket.nsp.name));
    const ok = server.client("/team-red", { auth: { ok: true } });
    assert.equal((await waitFor(ok, "in"))[0], "/team-red");
    const refused = server.client("/team-blue", { auth: { ok: false } });
    assert.equal((await connectError(refused)).message, "Invalid namespace");
  });

  test("several namespaces over one connection", async () => {
    server = await startServer();
    server.io.of("/a").on("connection", (s) => s.emit("hi", "a"));
    server.io.of("/b").on("connection", (s) => s.emit("hi", "b"));
    const { io: ioc } = await import("socket.io-client");
    const a = ioc(`${server.url}/a`, { forceNew: true, reconnection: false });
    const b = a.io.socket("/b");
    b.connect();
    const [[ha], [hb]] = await Promise.all([waitFor(a, "hi"), waitFor(b, "hi")]);
    assert.deepEqual([ha, hb], ["a", "b"]);
    assert.equal(server.io.engine.clientsCount, 1);
    a.disconnect();
    b.disconnect();
  });
});

describe("middleware", () => {
  test("accepts with auth and exposes the handshake", async () => {
    server = await startServer();
    server.io.use((socket, next) =>
      socket.handshake.auth.token === "s3cret" ? next() : next(new Error("unauthorized")),
    );
    server.io.on("connection", (socket) =>
      socket.emit(
        "handshake",
        socket.handshake.auth,
        socket.handshake.query.room,
        socket.handshake.address,
      ),
    );
    const client = server.client("/", { auth: { token: "s3cret" }, query: { room: "blue" } });
    const [auth, room, address] = await waitFor(client, "handshake");
    assert.deepEqual(auth, { token: "s3cret" });
    assert.equal(room, "blue");
    assert.match(String(address), /127\.0\.0\.1/);
  });

  test("refuses with message and data, and connection listeners never run", async () => {
    server = await startServer();
    let connections = 0;
    server.io.use((_socket, next) => {
      const err = new Error("unauthorized") as Error & { data?: unknown };
      err.data = { reason: "bad token", retryIn: 5 };
      next(err);
    });
    server.io.on("connection", () => connections++);
    const client = server.client("/", { auth: { token: "wrong" } });
    const err = await connectError(client);
    assert.equal(err.message, "unauthorized");
    assert.deepEqual(err.data, { reason: "bad token", retryIn: 5 });
    assert.equal(connections, 0);
  });

  test("middleware runs in order and async", async () => {
    server = await startServer();
    const order: number[] = [];
    server.io.use((_s, next) => {
      order.push(1);
      setTimeout(next, 10);
    });
    server.io.use((socket, next) => {
      order.push(2);
      socket.data.user = "ada";
      next();
    });
    server.io.on("connection", (socket) => socket.emit("user", socket.data.user));
    const [user] = await waitFor(server.client(), "user");
    assert.equal(user, "ada");
    assert.deepEqual(order, [1, 2]);
  });
});
