// Hostile and malformed input at the Socket.IO layer: each closes that one connection with
// a clear reason, and every other client carries on.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import WebSocket from "ws";
import {
  closeClients,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";
import { closeRawClients, rawClient } from "./support/raw-client.js";

let server: TestServer | undefined;
afterEach(async () => {
  closeRawClients();
  closeClients();
  await server?.close();
  server = undefined;
});

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Joins "/" over a raw socket, then sends `payload` and expects the connection closed. */
async function expectClosedBy(payloads: (string | Buffer)[]): Promise<void> {
  server ??= await startServer();
  server.io.on("connection", (socket) =>
    socket.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v)),
  );
  const healthy = server.client();
  await connected(healthy);
  const { ws, frames } = await rawClient(server.port);
  ws.send("40");
  await until(() => frames.some((f) => String(f).startsWith("40{")));
  const closed = waitFor(ws, "close");
  for (const p of payloads) ws.send(p);
  await closed;
  assert.equal(await healthy.timeout(2000).emitWithAck("echo", "still here"), "still here");
}

describe("malformed Socket.IO packets", () => {
  const cases: [string, (string | Buffer)[]][] = [
    ["truncated JSON", ['42["chat"']],
    ["unknown packet type", ["49[]"]],
    ["event name not a string", ["42[1,2]"]],
    ["event payload not an array", ['42{"a":1}']],
    ["non-numeric attachment count", ['45x-["a"]']],
    [
      "too many attachments",
      [
        `4511-["a",${Array.from({ length: 11 }, (_, i) => `{"_placeholder":true,"num":${i}}`).join(",")}]`,
      ],
    ],
    ["binary frame nobody asked for", [Buffer.from([1, 2, 3])]],
    ["placeholder out of range", ['451-["a",{"_placeholder":true,"num":5}]', Buffer.from([1])]],
    ["nesting too deep", [`42["a",${"[".repeat(100)}${"]".repeat(100)}]`]],
    ["duplicate CONNECT", ["40"]],
  ];
  for (const [name, payloads] of cases) {
    test(`${name}: that connection is closed, others keep working`, async () => {
      await expectClosedBy(payloads);
    });
  }

  test("an unknown namespace is refused but the connection stays usable", async () => {
    server = await startServer();
    const { ws, frames } = await rawClient(server.port);
    ws.send("40/nowhere,");
    await until(() => frames.some((f) => String(f).startsWith("44/nowhere,")));
    assert.equal(
      frames.find((f) => String(f).startsWith("44"))!,
      '44/nowhere,{"message":"Invalid namespace"}',
    );
    ws.send("40");
    await until(() => frames.some((f) => String(f).startsWith("40{")));
  });

  test("a packet for a namespace the client never joined is ignored", async () => {
    server = await startServer();
    server.io.on("connection", (socket) =>
      socket.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v)),
    );
    const { ws, frames } = await rawClient(server.port);
    ws.send("40");
    await until(() => frames.some((f) => String(f).startsWith("40{")));
    ws.send('42/other,["echo","x"]');
    ws.send('421["echo","y"]');
    await until(() => frames.includes('431["y"]'));
    assert.equal(ws.readyState, WebSocket.OPEN);
  });

  test("an oversized message closes that connection (maxHttpBufferSize)", async () => {
    server = await startServer({ maxHttpBufferSize: 1000 });
    await expectClosedBy([`42["echo","${"x".repeat(2000)}"]`]);
  });
});

describe("message rate limit", () => {
  test('a client over rateLimit is closed with "rate limit exceeded"; others carry on', async () => {
    server = await startServer({ rateLimit: { messages: 50, interval: 60_000 } });
    const reasons: string[] = [];
    let handled = 0;
    server.io.on("connection", (socket) => {
      socket.on("disconnect", (reason) => reasons.push(reason));
      socket.on("flood", () => handled++);
      socket.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
    });
    const polite = server.client("/", { transports: ["websocket"] });
    const flooder = server.client("/", { transports: ["websocket"] });
    await Promise.all([connected(polite), connected(flooder)]);
    const closed = waitFor(flooder, "disconnect");
    for (let i = 0; i < 100; i++) flooder.emit("flood", i);
    await closed;
    await until(() => reasons.length === 1);
    assert.deepEqual(reasons, ["rate limit exceeded"]);
    assert.ok(handled < 50, `${handled} handled`); // the CONNECT packet counts too
    assert.equal(server.io.engine.metrics.rateLimitDisconnects, 1);
    assert.equal(await polite.timeout(2000).emitWithAck("echo", "ok"), "ok");
  });

  test('onExceeded: "drop" drops the messages over the limit and keeps the connection', async () => {
    server = await startServer({
      rateLimit: { messages: 21, interval: 60_000, onExceeded: "drop" },
    });
    const got: number[] = [];
    server.io.on("connection", (socket) => socket.on("flood", (i: number) => got.push(i)));
    const client = server.client("/", { transports: ["websocket"] });
    await connected(client);
    for (let i = 0; i < 40; i++) client.emit("flood", i);
    await until(() => server!.io.engine.metrics.droppedRateLimitedMessages === 20);
    // The CONNECT packet was message 1 of 21: the first 20 events get through, in order.
    assert.deepEqual(
      got,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(client.connected, true);
  });
});
