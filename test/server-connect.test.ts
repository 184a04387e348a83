// The namespace join: what a client sends right behind its CONNECT, and a join that must
// wait for the adapter.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket as TcpSocket } from "node:net";
import { afterEach, describe, test } from "node:test";
import { io as ioc } from "socket.io-client";
import type { NamespacePort } from "../src/adapter/adapter.js";
import { InMemoryAdapter } from "../src/adapter/in-memory-adapter.js";
import { Server, type Socket as ServerSocket } from "../src/server/index.js";
import { closeClients, connected, startServer, type TestServer } from "./support/harness.js";

let server: TestServer | undefined;
const tcps: TcpSocket[] = [];
afterEach(async () => {
  for (const tcp of tcps.splice(0)) tcp.destroy();
  closeClients();
  await server?.close();
  server = undefined;
});

/** A client-to-server text frame (masked, as RFC 6455 §5.3 requires; a zero key). */
function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  assert.ok(payload.length < 126, "short frames only");
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

/**
 * Opens a WebSocket by hand over TCP and resolves once what was received includes `until`
 * (by default the Engine.IO open packet), so that the test can put several frames into one
 * TCP write.
 */
async function rawSession(
  port: number,
  path = "/socket.io/?EIO=4&transport=websocket",
  until = '0{"sid"',
): Promise<TcpSocket> {
  const tcp = connect(port, "127.0.0.1");
  tcps.push(tcp);
  tcp.write(
    `GET ${path} HTTP/1.1\r\n` +
      `Host: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
  let received = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not received: ${until}`)), 3000);
    const onData = (chunk: Buffer): void => {
      received += chunk.toString("latin1");
      if (!received.includes(until)) return;
      clearTimeout(timer);
      tcp.off("data", onData);
      resolve();
    };
    tcp.on("data", onData);
  });
  assert.match(received, /^HTTP\/1\.1 101 /);
  return tcp;
}

/** Resolves with the first argument of the next `hello` event any socket receives. */
function nextHello(srv: TestServer, ms = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no hello event reached the handler")), ms);
    srv.io.on("connection", (socket) => {
      socket.on("hello", (value: unknown) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  });
}

describe("namespace join", () => {
  test("an event sent in the same TCP write as CONNECT reaches the handler", async () => {
    server = await startServer();
    const hello = nextHello(server);
    const tcp = await rawSession(server.port);
    // One write: the server decodes both frames in one turn, so the socket must exist by
    // the time the event is decoded.
    tcp.write(Buffer.concat([maskedTextFrame("40"), maskedTextFrame('42["hello","now"]')]));
    assert.equal(await hello, "now");
  });

  test("the same, through a synchronous middleware", async () => {
    server = await startServer();
    let ran = 0;
    server.io.use((_socket, next) => {
      ran++;
      next();
    });
    const hello = nextHello(server);
    const tcp = await rawSession(server.port);
    tcp.write(Buffer.concat([maskedTextFrame("40"), maskedTextFrame('42["hello","again"]')]));
    assert.equal(await hello, "again");
    assert.equal(ran, 1);
  });

  test("bare mode: events that join a namespace keep their order within one TCP write", async () => {
    server = await startServer({ bareWebSocket: true });
    const said: unknown[] = [];
    const all = new Promise<void>((resolve, reject) => {
      setTimeout(() => reject(new Error(`got ${JSON.stringify(said)}`)), 3000).unref();
      server?.io.of("/chat").on("connection", (socket) => {
        socket.on("say", (text: unknown) => {
          said.push(text);
          if (said.length === 3) resolve();
        });
      });
    });
    // ?nsp= (empty): nothing joined on open; the first event joins /chat.
    const tcp = await rawSession(server.port, "/ws?nsp=", "\r\n\r\n");
    const say = (text: string) =>
      maskedTextFrame(JSON.stringify({ event: "say", args: [text], nsp: "/chat" }));
    tcp.write(Buffer.concat([say("a"), say("b"), say("c")]));
    await all;
    assert.deepEqual(said, ["a", "b", "c"]);
  });

  test("a CONNECT before the adapter is ready waits for it", async () => {
    let release = (): void => {};
    const ready = new Promise<void>((resolve) => {
      release = resolve;
    });
    class SlowAdapter extends InMemoryAdapter {
      override init(): Promise<void> {
        return ready;
      }
    }
    server = await startServer({ adapter: (port: NamespacePort) => new SlowAdapter(port) });
    let connections = 0;
    server.io.on("connection", () => connections++);
    // The session's "message" event fires after the Socket.IO layer handled the packet.
    const connectHandled = new Promise<unknown>((resolve) => {
      server?.io.engine.once("connection", (conn) => conn.once("message", resolve));
    });
    const client = server.client();
    assert.equal(await connectHandled, "0");
    assert.equal(connections, 0, "joined before the adapter was ready");
    release();
    await connected(client);
    assert.equal(connections, 1);
  });
});

describe("handshake address", () => {
  for (const transport of ["websocket", "polling"]) {
    test(`is the client's address, read again after the disconnect (${transport})`, async () => {
      server = await startServer();
      const joined = new Promise<ServerSocket>((resolve) => server?.io.once("connection", resolve));
      const client = server.client("/", { transports: [transport] });
      await connected(client);
      const socket = await joined;
      const gone = new Promise<void>((resolve) => socket.once("disconnect", () => resolve()));
      client.disconnect();
      await gone;
      assert.equal(socket.handshake.address, "127.0.0.1");
      assert.equal(socket.request.socket.remoteAddress, "127.0.0.1");
      assert.equal(socket.conn.remoteAddress, "127.0.0.1");
    });
  }

  test("is the IPv6 address of a client over ::1", async () => {
    const http = createServer();
    const io = new Server(http);
    http.listen(0, "::1");
    await once(http, "listening");
    const { port } = http.address() as AddressInfo;
    try {
      const joined = new Promise<ServerSocket>((resolve) => io.once("connection", resolve));
      const client = ioc(`http://[::1]:${port}`, { transports: ["websocket"], forceNew: true });
      try {
        assert.equal((await joined).handshake.address, "::1");
      } finally {
        client.disconnect();
      }
    } finally {
      await io.close();
    }
  });
});
