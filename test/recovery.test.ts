// Connection-state recovery with the official socket.io-client (Socket.IO 4.6+ wire format).
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import type { ServerOptions, Socket } from "../src/server/index.js";
import { collect, connected, startServer, type TestServer, waitFor } from "./support/harness.js";

let server: TestServer | undefined;
const clients: ClientSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await server?.close();
  server = undefined;
});

/** A reconnecting client over WebSocket whose server-side socket joined `room`. */
async function setup(opts: ServerOptions = {}): Promise<{ client: ClientSocket; socket: Socket }> {
  server = await startServer(opts);
  server.io.on("connection", (socket) => {
    if (!socket.recovered) {
      socket.join("room");
      socket.data.user = "ada";
    }
  });
  const first = new Promise<Socket>((resolve) => server!.io.once("connection", resolve));
  const client = ioc(server.url, {
    forceNew: true,
    transports: ["websocket"],
    reconnectionDelay: 20,
    reconnectionDelayMax: 50,
  });
  clients.push(client);
  await connected(client);
  return { client, socket: await first };
}

/** Cuts the client's TCP connection without a goodbye, as a network loss would. */
function cut(client: ClientSocket): void {
  const transport = client.io.engine.transport as unknown as { ws: { terminate(): void } };
  transport.ws.terminate();
}

/** Cuts the connection and waits until the server saw the socket go. */
async function cutAndWait(client: ClientSocket, socket: Socket): Promise<void> {
  const gone = waitFor(socket, "disconnect");
  cut(client);
  await gone;
}

describe("connection-state recovery", () => {
  test("a client that reconnects in time gets its id, rooms, data and every missed packet, in order", async () => {
    const { client, socket } = await setup();
    const before = collect<number>(client, "tick", 2);
    server!.io.emit("tick", 0);
    socket.emit("tick", 1);
    assert.deepEqual(await before, [0, 1]);
    const id = client.id;

    const reconnected = waitFor(client, "connect", 3000);
    const missed = collect<number>(client, "tick", 4, 3000);
    await cutAndWait(client, socket);
    server!.io.emit("tick", 2);
    server!.io.to("room").emit("tick", 3);
    server!.io.except("room").emit("never", 0);
    server!.io.to("other-room").emit("never", 1);
    server!.io.to(socket.id).emit("tick", 4);
    server!.io.emit("tick", 5);
    let strays = 0;
    client.on("never", () => strays++);
    await reconnected;
    assert.equal(client.recovered, true);
    assert.equal(client.id, id);
    assert.deepEqual(await missed, [2, 3, 4, 5]);

    const restored = await server!.io.in("room").fetchSockets();
    assert.deepEqual(
      restored.map((s) => s.id),
      [id],
    );
    assert.equal((restored[0]!.data as { user: string }).user, "ada");
    const after = waitFor(client, "after");
    server!.io.to("room").emit("after", 6);
    assert.equal((await after)[0], 6);
    assert.equal(strays, 0);
  });

  test("a client that got no packet before the cut still recovers what it missed", async () => {
    const { client, socket } = await setup();
    const reconnected = waitFor(client, "connect", 3000);
    const missed = collect<string>(client, "news", 2, 3000);
    await cutAndWait(client, socket);
    server!.io.emit("news", "a");
    server!.io.to("room").emit("news", "b");
    await reconnected;
    assert.equal(client.recovered, true);
    assert.deepEqual(await missed, ["a", "b"]);
  });

  test("too late: the client is told it was not recovered and gets a new id", async () => {
    const { client, socket } = await setup({
      connectionStateRecovery: { maxDisconnectionDuration: 1 },
    });
    const id = client.id;
    server!.io.emit("tick", 0);
    await waitFor(client, "tick");
    const reconnected = waitFor(client, "connect", 3000);
    await cutAndWait(client, socket);
    await new Promise((r) => setTimeout(r, 20));
    await reconnected;
    assert.equal(client.recovered, false);
    assert.notEqual(client.id, id);
  });

  test("store trimmed past the client's offset: not recovered, never a silent gap", async () => {
    const { client, socket } = await setup({ connectionStateRecovery: { maxPackets: 2 } });
    server!.io.emit("tick", 0);
    await waitFor(client, "tick");
    const reconnected = waitFor(client, "connect", 3000);
    await cutAndWait(client, socket);
    for (let i = 1; i <= 5; i++) server!.io.emit("tick", i);
    await reconnected;
    assert.equal(client.recovered, false);
  });

  test("a client that disconnects on purpose leaves no session behind", async () => {
    const { client, socket } = await setup();
    server!.io.emit("tick", 0);
    await waitFor(client, "tick");
    const gone = waitFor(socket, "disconnect");
    client.disconnect();
    await gone;
    client.connect();
    await connected(client);
    assert.equal(client.recovered, false);
  });

  test("a session is restored at most once", async () => {
    const { client, socket } = await setup();
    server!.io.emit("tick", 0);
    await waitFor(client, "tick");
    const pid = (client as unknown as { _pid: string })._pid;
    const reconnected = waitFor(client, "connect", 3000);
    await cutAndWait(client, socket);
    await reconnected;
    assert.equal(client.recovered, true);
    client.disconnect(); // on purpose: nothing is kept
    await new Promise((r) => setTimeout(r, 20));
    // Replaying the pid of a session that ended gets a fresh session.
    const replay = ioc(server!.url, {
      forceNew: true,
      transports: ["websocket"],
      reconnection: false,
    });
    clients.push(replay);
    (replay as unknown as { _pid: string })._pid = pid;
    await connected(replay);
    assert.equal(replay.recovered, false);
    assert.notEqual(replay.id, client.id);
  });

  test("a client back before the server saw its old connection die takes that connection over", async () => {
    const { client, socket } = await setup();
    server!.io.emit("tick", 0);
    await waitFor(client, "tick");
    const pid = (client as unknown as { _pid: string })._pid;
    const offset = (client as unknown as { _lastOffset: string })._lastOffset;
    // A second connection presenting the live session (as a reconnect that raced the
    // server's detection of the cut would): the old one is closed, the session moves over.
    const oldGone = waitFor(socket, "disconnect");
    const next = ioc(server!.url, {
      forceNew: true,
      transports: ["websocket"],
      reconnection: false,
    });
    clients.push(next);
    Object.assign(next as unknown as object, { _pid: pid, _lastOffset: offset });
    await connected(next);
    assert.equal((await oldGone)[0], "transport close");
    assert.equal(next.recovered, true);
    assert.equal(next.id, socket.id);
  });

  test("recovery can be turned off", async () => {
    const { client, socket } = await setup({ connectionStateRecovery: false });
    server!.io.emit("tick", 0);
    const [value, offset] = await waitFor(client, "tick");
    assert.equal(value, 0);
    assert.equal(offset, undefined); // no offset appended on the wire
    const reconnected = waitFor(client, "connect", 3000);
    await cutAndWait(client, socket);
    await reconnected;
    assert.ok(!client.recovered); // socket.io-client leaves it undefined without a pid
  });
});

describe("recovery and volatile events", () => {
  test("a volatile event's string argument is never taken for an offset", async () => {
    const { client, socket } = await setup();
    server!.io.emit("tick", 0);
    await waitFor(client, "tick");
    const volatileSeen = waitFor(client, "chat");
    server!.io.volatile.emit("chat", "hello"); // ends with a user string
    const [text, offset] = await volatileSeen;
    assert.equal(text, "hello");
    assert.equal(typeof offset, "string"); // the newest offset rides along
    const reconnected = waitFor(client, "connect", 3000);
    const missed = waitFor(client, "tick", 3000);
    await cutAndWait(client, socket);
    server!.io.emit("tick", 1);
    await reconnected;
    assert.equal(client.recovered, true);
    assert.equal((await missed)[0], 1);
  });
});
