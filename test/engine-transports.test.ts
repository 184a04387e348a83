/**
 * The official engine.io-client against our EngineServer, in three configurations
 * (polling only, websocket only, polling upgraded to websocket): handshake, text and binary
 * messages both ways, and close reasons on both ends.
 */
import assert from "node:assert/strict";
import { type IncomingHttpHeaders, IncomingMessage } from "node:http";
import { connect } from "node:net";
import { after, afterEach, before, beforeEach, describe, it } from "node:test";
import type { Socket as ClientSocket, SocketOptions } from "engine.io-client";
import type { EngineSocket } from "../src/engine/index.js";
import { type EngineHarness, startEngine, waitFor } from "./engine-helpers.js";

interface Mode {
  readonly name: string;
  readonly client: Partial<SocketOptions>;
  readonly finalTransport: "polling" | "websocket";
}

const MODES: readonly Mode[] = [
  { name: "polling only", client: { transports: ["polling"] }, finalTransport: "polling" },
  { name: "websocket only", client: { transports: ["websocket"] }, finalTransport: "websocket" },
  { name: "polling upgraded to websocket", client: {}, finalTransport: "websocket" },
];

/** Connects a client and waits until the session is on its final transport. */
async function connectPair(
  harness: EngineHarness,
  mode: Mode,
): Promise<{ client: ClientSocket; server: EngineSocket }> {
  const serverSide = harness.nextConnection();
  const client = harness.connect(mode.client);
  const server = await serverSide;
  await waitFor(client, "open");
  if (mode.finalTransport === "websocket" && server.transport.name !== "websocket") {
    await waitFor(server, "upgrade");
  }
  if (client.transport.name !== mode.finalTransport) await waitFor(client, "upgrade");
  return { client, server };
}

for (const mode of MODES) {
  describe(`engine transports: ${mode.name}`, () => {
    let harness: EngineHarness;
    before(async () => {
      harness = await startEngine();
    });
    after(() => harness.stop());
    afterEach(() => {
      for (const socket of harness.engine.clients.values()) socket.close();
    });

    it("handshakes and lands on the expected transport", async () => {
      const { client, server } = await connectPair(harness, mode);
      assert.equal(client.id, server.id);
      assert.equal(server.transport.name, mode.finalTransport);
      assert.equal(server.upgraded, mode.client.transports === undefined);
      assert.equal(server.readyState, "open");
      assert.equal(server.protocol, 4);
      assert.equal(server.remoteAddress, "127.0.0.1");
      assert.equal(harness.engine.clients.get(server.id), server);
    });

    it("delivers text and binary messages from client to server", async () => {
      const { client, server } = await connectPair(harness, mode);
      const received: (string | Buffer)[] = [];
      server.on("message", (data) => received.push(data));
      const done = new Promise<void>((resolve) => {
        server.on("message", () => received.length === 3 && resolve());
      });
      client.send("héllo ☃");
      client.send(new Uint8Array([1, 2, 255]));
      client.send("");
      await done;
      assert.equal(received[0], "héllo ☃");
      assert.ok(Buffer.isBuffer(received[1]));
      assert.deepEqual([...(received[1] as Buffer)], [1, 2, 255]);
      assert.equal(received[2], "");
    });

    it("delivers text and binary messages from server to client, with send callbacks", async () => {
      const { client, server } = await connectPair(harness, mode);
      const received: unknown[] = [];
      const done = new Promise<void>((resolve) => {
        client.on("message", (data) => {
          received.push(data);
          if (received.length === 2) resolve();
        });
      });
      let isCalledBack = false;
      server.send("snow ☃");
      server.send(Buffer.from([9, 8, 7]), {}, () => {
        isCalledBack = true;
      });
      await done;
      assert.equal(received[0], "snow ☃");
      assert.deepEqual([...new Uint8Array(received[1] as ArrayBuffer | Uint8Array)], [9, 8, 7]);
      if (!isCalledBack) await waitFor(server, "drain");
      assert.ok(isCalledBack);
    });

    it("closes with 'forced close' on the server and 'transport close' on the client", async () => {
      const { client, server } = await connectPair(harness, mode);
      const serverClosed = waitFor<[string]>(server, "close");
      const clientClosed = waitFor<[string]>(client, "close");
      server.send("last words");
      const lastMessage = waitFor<[string]>(client, "message");
      server.close();
      assert.equal((await serverClosed)[0], "forced close");
      assert.equal((await lastMessage)[0], "last words");
      assert.equal((await clientClosed)[0], "transport close");
      assert.equal(harness.engine.clients.has(server.id), false);
      assert.equal(server.readyState, "closed");
    });

    it("closes with 'transport close' when the client closes", async () => {
      const { client, server } = await connectPair(harness, mode);
      const serverClosed = waitFor<[string]>(server, "close");
      client.close();
      assert.equal((await serverClosed)[0], "transport close");
      assert.equal(harness.engine.clientsCount, 0);
    });
  });
}

describe("engine: a WebSocket handshake reads the request's raw headers", () => {
  let harness: EngineHarness;
  let reads: number;
  before(async () => {
    harness = await startEngine();
    // Counts reads of `req.headers`, the object Node builds from rawHeaders on first read.
    harness.http.prependListener("upgrade", (req: IncomingMessage) => {
      Object.defineProperty(req, "headers", {
        get: () => {
          reads++;
          return Reflect.get(IncomingMessage.prototype, "headers", req) as IncomingHttpHeaders;
        },
      });
    });
  });
  beforeEach(() => {
    reads = 0;
  });
  after(() => harness.stop());

  it("without Node building req.headers, and the session keeps them", async () => {
    const connected = harness.nextConnection();
    const raw = harness.rawWebSocket("&transport=websocket");
    const session = await connected;
    await raw.opened();
    assert.equal(reads, 0, "req.headers was read");
    const headers = session.request.headers;
    assert.equal(headers.upgrade, "websocket");
    assert.equal(headers["sec-websocket-version"], "13");
    assert.equal(headers.host, `127.0.0.1:${harness.port}`);
    assert.equal(headers["sec-websocket-key"], undefined, "the key is not kept");
  });

  it("through req.headers when a header repeats, joined as Node joins it", async () => {
    const connected = harness.nextConnection();
    const socket = connect(harness.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write(
      `GET ${harness.engine.options.path}/?EIO=4&transport=websocket HTTP/1.1\r\n` +
        "Host: 127.0.0.1\r\nupgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
        "X-Trace: a\r\nx-trace: b\r\n\r\n",
    );
    const [answer] = await waitFor<[Buffer]>(socket, "data");
    const session = await connected;
    assert.match(answer.toString("latin1"), /^HTTP\/1\.1 101 /);
    assert.ok(reads > 0, "req.headers was not read");
    assert.equal(session.request.headers["x-trace"], "a, b");
    socket.destroy();
  });
});
