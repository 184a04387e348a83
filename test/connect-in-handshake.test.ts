/**
 * Joining a namespace in the Engine.IO handshake (`sb_connect`, see HANDSHAKE_CONNECT in
 * src/protocol/socket-packet.ts): the server handles the parameter as a CONNECT without
 * auth and confirms it in the open packet; our client then sends no CONNECT packet. Raw
 * WebSocket and HTTP peers check the wire, our client checks the round trip it saves, and
 * the official packages check that nothing changes for them.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import { Server as OfficialServer } from "socket.io";
import { type IoOptions, io, Manager, type Socket } from "../src/client/index.js";
import type { EngineSocket } from "../src/engine/index.js";
import { Server, type ServerOptions, type Socket as ServerSocket } from "../src/server/index.js";
import { httpRequest, RawWebSocket } from "./engine-helpers.js";
import { waitFor } from "./support/harness.js";

const servers = new Set<{ close(): unknown }>();
const clients = new Set<Socket>();
const raws = new Set<RawWebSocket>();

afterEach(async () => {
  for (const socket of clients) socket.io.disconnect();
  clients.clear();
  for (const raw of raws) raw.ws.terminate();
  raws.clear();
  await Promise.all([...servers].map((s) => s.close()));
  servers.clear();
});

async function start(opts: ServerOptions = {}): Promise<{ server: Server; port: number }> {
  const http = createServer();
  const server = new Server(http, opts);
  servers.add(server);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return { server, port: (http.address() as AddressInfo).port };
}

function connect(url: string, opts: IoOptions = {}): Socket {
  const socket = io(url, { forceNew: true, reconnection: false, ...opts });
  clients.add(socket);
  return socket;
}

/** A raw WebSocket handshake with `query` after the Engine.IO parameters. */
async function raw(port: number, query: string): Promise<RawWebSocket> {
  const ws = new RawWebSocket(
    `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket${query}`,
  );
  raws.add(ws);
  await ws.opened();
  return ws;
}

/** The open packet's fields, from the first frame. */
async function openPacket(ws: RawWebSocket): Promise<Record<string, unknown>> {
  const frame = String(await ws.next());
  assert.equal(frame[0], "0", `expected the open packet, got ${frame}`);
  return JSON.parse(frame.slice(1)) as Record<string, unknown>;
}

/** Records every message the server's sessions receive, by session id. */
function recordMessages(server: Server): Map<string, unknown[]> {
  const seen = new Map<string, unknown[]>();
  server.engine.on("connection", (conn: EngineSocket) => {
    const list: unknown[] = [];
    seen.set(conn.id, list);
    conn.on("message", (data: unknown) => list.push(data));
  });
  return seen;
}

describe("joining a namespace in the handshake: the server", () => {
  it("confirms it in the open packet and answers the CONNECT without being sent one", async () => {
    const { server, port } = await start();
    const joined = waitFor<[ServerSocket]>(server, "connection");
    const ws = await raw(port, "&sb_connect=/");
    const open = await openPacket(ws);
    assert.equal(open.sb_connect, "/");
    assert.equal(typeof open.sid, "string");
    const answer = String(await ws.next());
    assert.match(answer, /^40\{"sid":"[^"]+"/);
    const [socket] = await joined;
    assert.equal(JSON.parse(answer.slice(2)).sid, socket.id);
    assert.deepEqual(socket.handshake.auth, {});
    assert.equal(socket.handshake.query.sb_connect, "/");
    // The socket works as any other: an event both ways.
    const hello = waitFor<[string]>(socket, "hello");
    ws.ws.send('42["hello","there"]');
    assert.deepEqual(await hello, ["there"]);
    socket.emit("back", 1);
    assert.match(String(await ws.next()), /^42\["back",1/);
  });

  it("runs the middleware and refuses with CONNECT_ERROR as for a CONNECT packet", async () => {
    const { server, port } = await start();
    server.use((socket, next) =>
      next(socket.handshake.auth.token === "t" ? undefined : new Error("token needed")),
    );
    const ws = await raw(port, "&sb_connect=/");
    assert.equal((await openPacket(ws)).sb_connect, "/");
    assert.equal(String(await ws.next()), '44{"message":"token needed"}');
    // The session stays open: a CONNECT with auth is answered.
    ws.ws.send('40{"token":"t"}');
    assert.match(String(await ws.next()), /^40\{"sid"/);
  });

  it("keeps connectTimeout for a refused join; a joined connection stays", async () => {
    const { server, port } = await start({ connectTimeout: 150 });
    server.use((socket, next) =>
      next(socket.handshake.auth.token === "t" ? undefined : new Error("token needed")),
    );
    server.of("/open"); // no middleware there
    const refused = await raw(port, "&sb_connect=/");
    await openPacket(refused);
    assert.equal(String(await refused.next()), '44{"message":"token needed"}');
    const joined = await raw(port, "&sb_connect=/open");
    await openPacket(joined);
    assert.match(String(await joined.next()), /^40\/open,\{"sid"/);
    // The refused connection joined nothing: closed after connectTimeout; the other stays.
    await refused.closed(2000);
    assert.equal(server.engine.clientsCount, 1);
    assert.equal(server.of("/open").sockets.size, 1);
  });

  it("answers a namespace that does not exist with Invalid namespace", async () => {
    const { port } = await start();
    const ws = await raw(port, "&sb_connect=/nowhere");
    assert.equal((await openPacket(ws)).sb_connect, "/nowhere");
    assert.equal(String(await ws.next()), '44/nowhere,{"message":"Invalid namespace"}');
  });

  it("decodes an escaped name and joins a dynamic namespace", async () => {
    const { server, port } = await start();
    const joined = waitFor<[ServerSocket]>(server.of(/^\/room-\d+$/), "connection");
    const ws = await raw(port, `&sb_connect=${encodeURIComponent("/room-7")}`);
    assert.equal((await openPacket(ws)).sb_connect, "/room-7");
    assert.match(String(await ws.next()), /^40\/room-7,\{"sid"/);
    const [socket] = await joined;
    assert.equal(socket.nsp.name, "/room-7");
  });

  it("ignores a value that is not a namespace name, and a longer parameter name", async () => {
    const { server, port } = await start();
    const queries = ["&sb_connect=chat", "&xsb_connect=/", "&sb_connect=%E0%A4%A"];
    for (const [i, query] of queries.entries()) {
      const ws = await raw(port, query);
      const open = await openPacket(ws);
      assert.equal(open.sb_connect, undefined, query);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(server.sockets.sockets.size, i, `${query}: no socket joined without a CONNECT`);
      ws.ws.send("40");
      assert.match(String(await ws.next()), /^40\{"sid"/, query);
    }
    assert.equal(server.sockets.sockets.size, 3);
  });

  it("does the same for a polling handshake: the answer waits for the first poll", async () => {
    const { port } = await start();
    const base = `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`;
    const handshake = await httpRequest(`${base}&sb_connect=/`);
    assert.equal(handshake.status, 200);
    const open = JSON.parse(handshake.text.slice(1)) as Record<string, unknown>;
    assert.equal(open.sb_connect, "/");
    const poll = await httpRequest(`${base}&sid=${open.sid}`);
    assert.match(poll.text, /^40\{"sid"/);
  });

  it("keeps the application's own openPacketFields and adds its own", async () => {
    const { port } = await start({ openPacketFields: () => ({ region: "eu" }) });
    const open = await openPacket(await raw(port, "&sb_connect=/"));
    assert.equal(open.region, "eu");
    assert.equal(open.sb_connect, "/");
    const plain = await openPacket(await raw(port, ""));
    assert.equal(plain.region, "eu");
    assert.equal(plain.sb_connect, undefined);
  });

  it("survives an openPacketFields that throws: the handshake goes on without extra fields", async () => {
    const { port } = await start({
      openPacketFields: () => {
        throw new Error("app bug");
      },
    });
    const open = await openPacket(await raw(port, ""));
    assert.equal(typeof open.sid, "string");
    // The join in the handshake is still confirmed, so the client sends no second CONNECT.
    const ws = await raw(port, "&sb_connect=/");
    assert.equal((await openPacket(ws)).sb_connect, "/");
    assert.match(String(await ws.next()), /^40\{"sid"/);
  });
});

describe("joining a namespace in the handshake: our client", () => {
  for (const transports of [["websocket"], ["polling"]]) {
    it(`connects without sending a CONNECT packet (${transports})`, async () => {
      const { server, port } = await start();
      const messages = recordMessages(server);
      const joined = waitFor<[ServerSocket]>(server, "connection");
      const socket = connect(`http://127.0.0.1:${port}`, { transports });
      await waitFor(socket, "connect");
      const [peer] = await joined;
      assert.equal(socket.id, peer.id);
      assert.deepEqual(messages.get(peer.conn.id), [], "no message before the connection");
      assert.equal(peer.handshake.query.sb_connect, "/");
      peer.on("add", (a: number, b: number, ack: (n: number) => void) => ack(a + b));
      assert.equal(await socket.emitWithAck("add", 2, 3), 5);
    });
  }

  it("sends its CONNECT packet when it has auth", async () => {
    const { server, port } = await start();
    const messages = recordMessages(server);
    const joined = waitFor<[ServerSocket]>(server, "connection");
    const socket = connect(`http://127.0.0.1:${port}`, { auth: { token: "abc" } });
    await waitFor(socket, "connect");
    const [peer] = await joined;
    assert.deepEqual(peer.handshake.auth, { token: "abc" });
    assert.equal(peer.handshake.query.sb_connect, undefined);
    assert.deepEqual(messages.get(peer.conn.id), ['0{"token":"abc"}']);
  });

  it("reads auth set right after io(), before the handshake", async () => {
    const { server, port } = await start();
    const joined = waitFor<[ServerSocket]>(server, "connection");
    const socket = connect(`http://127.0.0.1:${port}`);
    socket.auth = { token: "late" };
    await waitFor(socket, "connect");
    const [peer] = await joined;
    assert.deepEqual(peer.handshake.auth, { token: "late" });
  });

  it("joins the first namespace in the handshake and a second one with a CONNECT", async () => {
    const { server, port } = await start();
    const messages = recordMessages(server);
    server.of("/b");
    const manager = new Manager(`http://127.0.0.1:${port}`, { reconnection: false });
    const a = manager.socket("/a");
    const b = manager.socket("/b");
    clients.add(a);
    const [peerA] = await waitFor<[ServerSocket]>(server.of("/a"), "connection");
    await Promise.all([waitFor(a, "connect"), waitFor(b, "connect")]);
    assert.equal(peerA.handshake.query.sb_connect, "/a");
    assert.deepEqual(messages.get(peerA.conn.id), ["0/b,"]);
  });

  it("tells the server when its socket left before the session opened", async () => {
    const { server, port } = await start();
    server.of("/b");
    const manager = new Manager(`http://127.0.0.1:${port}`, { reconnection: false });
    const a = manager.socket("/a");
    const b = manager.socket("/b");
    clients.add(b);
    const left = waitFor<[ServerSocket]>(server.of("/a"), "connection").then(([peer]) =>
      waitFor<[string]>(peer, "disconnect").then(([reason]) => reason),
    );
    // After the handshake request named "/a", before the client reads the open packet; b
    // keeps the connection.
    server.engine.once("connection", () => a.disconnect());
    await waitFor(b, "connect");
    assert.equal(await left, "client namespace disconnect");
    assert.equal(a.connected, false);
  });

  it("sends its CONNECT packet to a Socket.IO server, which ignores the parameter", async () => {
    const http = createServer();
    const official = new OfficialServer(http);
    servers.add({ close: () => new Promise((resolve) => official.close(resolve)) });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const port = (http.address() as AddressInfo).port;
    const joined = waitFor<[{ id: string; handshake: { query: Record<string, string> } }]>(
      official,
      "connection",
    );
    const socket = connect(`http://127.0.0.1:${port}`, { transports: ["websocket"] });
    await waitFor(socket, "connect");
    const [peer] = await joined;
    assert.equal(socket.id, peer.id);
    assert.equal(peer.handshake.query.sb_connect, "/");
  });
});
