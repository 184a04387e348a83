// Disconnect reasons, heartbeat, connectTimeout, restart and reconnect.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { Socket as EngineClient } from "engine.io-client";
import { io as ioc } from "socket.io-client";
import type { Socket } from "../src/server/index.js";
import {
  closeClients,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  closeClients();
  await server?.close();
  server = undefined;
});

function nextSocket(s: TestServer): Promise<Socket> {
  return new Promise((resolve) => s.io.once("connection", resolve));
}

describe("disconnect reasons", () => {
  test('server socket.disconnect(): client gets "io server disconnect" and does not reconnect', async () => {
    server = await startServer();
    const ready = nextSocket(server);
    const client = server.client("/", { reconnection: true, reconnectionDelay: 10 });
    const socket = await ready;
    const serverSide = waitFor(socket, "disconnect");
    const clientSide = waitFor(client, "disconnect");
    socket.disconnect();
    assert.equal((await serverSide)[0], "server namespace disconnect");
    assert.equal((await clientSide)[0], "io server disconnect");
    assert.equal(client.active, false);
  });

  test("server socket.disconnect(true) closes the connection", async () => {
    server = await startServer();
    const ready = nextSocket(server);
    const client = server.client();
    const socket = await ready;
    await connected(client);
    const clientSide = waitFor(client, "disconnect");
    socket.disconnect(true);
    assert.equal((await clientSide)[0], "io server disconnect");
    // The close is graceful (buffered packets flush first, an upgrade in flight may finish),
    // so the session goes a moment after the client saw the DISCONNECT.
    const deadline = Date.now() + 2000;
    while (server.io.engine.clientsCount > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(server.io.engine.clientsCount, 0);
  });

  test('client disconnect: "client namespace disconnect"', async () => {
    server = await startServer();
    const ready = nextSocket(server);
    const client = server.client();
    const socket = await ready;
    await connected(client);
    const serverSide = waitFor(socket, "disconnecting");
    client.disconnect();
    assert.equal((await serverSide)[0], "client namespace disconnect");
  });

  test('io.close(): "server shutting down" on the server, the client sees the transport close', async () => {
    server = await startServer();
    const ready = nextSocket(server);
    // Over WebSocket: a polling client sees "transport close" only when a GET is pending at
    // that moment (the close packet rides on it); between two GETs its next one is refused
    // and it reports "transport error", as with Socket.IO.
    const client = server.client("/", { transports: ["websocket"] });
    const socket = await ready;
    await connected(client);
    const serverSide = waitFor(socket, "disconnect");
    const clientSide = waitFor(client, "disconnect");
    await server.close();
    server = undefined;
    assert.equal((await serverSide)[0], "server shutting down");
    assert.equal((await clientSide)[0], "transport close");
  });
});

describe("heartbeat and timeouts", () => {
  test('a client that stops answering pings is disconnected with "ping timeout"', async () => {
    server = await startServer({ pingInterval: 100, pingTimeout: 100 });
    const ready = nextSocket(server);
    const client = server.client("/", { transports: ["websocket"] });
    const socket = await ready;
    await connected(client);
    // Silence the client: its engine no longer writes anything, pongs included.
    const engine = client.io.engine as unknown as Record<"sendPacket" | "_sendPacket", () => void>;
    engine.sendPacket = () => {};
    engine._sendPacket = () => {};
    const [reason] = await waitFor(socket, "disconnect", 2000);
    assert.equal(reason, "ping timeout");
  });

  test("a connection that joins no namespace is closed after connectTimeout", async () => {
    server = await startServer({ connectTimeout: 100 });
    const engine = new EngineClient(server.url, { path: "/socket.io/", transports: ["websocket"] });
    await waitFor(engine as never, "open");
    const [reason] = await waitFor(engine as never, "close", 2000);
    assert.equal(reason, "transport close");
    assert.equal(server.io.engine.clientsCount, 0);
  });
});

describe("restart", () => {
  test("a client reconnects by itself after the server restarts on the same port", async () => {
    server = await startServer();
    const port = server.port;
    const client = ioc(server.url, {
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
    });
    await connected(client);
    const firstId = client.id;
    await server.close();
    server = await startServer({}, port);
    server.io.on("connection", (socket) =>
      socket.on("still-there", (ack: (v: string) => void) => ack("yes")),
    );
    await waitFor(client, "connect", 5000);
    assert.notEqual(client.id, firstId);
    assert.equal(await client.timeout(2000).emitWithAck("still-there"), "yes");
    client.disconnect();
  });
});
