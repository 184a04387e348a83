/**
 * Bounded outgoing buffers (issue 6): a client that stops reading cannot make a session hold
 * more than `maxBufferedBytes` / `maxBufferedPackets`; volatile packets go first, then the
 * session closes with "slow consumer", counted in `engine.metrics`. Also `bufferedAmount`,
 * `"drain"`, the handshake request snapshot, and write coalescing.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { EngineSocket } from "../src/engine/index.js";
import {
  type EngineHarness,
  httpRequest,
  pollingHandshake,
  startEngine,
  until,
  waitFor,
} from "./engine-helpers.js";

const MESSAGE = "x".repeat(64 * 1024);

/** Sends MESSAGE once per event-loop turn until the session closes; tracks the buffer. */
async function flood(session: EngineSocket, maxBytes: number): Promise<number> {
  let highest = 0;
  for (let sent = 0; session.readyState === "open" && sent < maxBytes; sent += MESSAGE.length) {
    session.send(MESSAGE);
    highest = Math.max(highest, session.bufferedAmount);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return highest;
}

describe("engine bounded buffers", () => {
  let harness: EngineHarness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it("closes a WebSocket client that stops reading with 'slow consumer', within the bound", async () => {
    const bound = 512 * 1024;
    harness = await startEngine({ transports: ["websocket"], maxBufferedBytes: bound });
    const slowSide = harness.nextConnection();
    const slow = harness.rawWebSocket("&transport=websocket");
    await slow.opened();
    const slowSession = await slowSide;
    const fastSide = harness.nextConnection();
    const fast = harness.rawWebSocket("&transport=websocket");
    await fast.opened();
    const fastSession = await fastSide;
    assert.match(String(await fast.next()), /^0\{/); // open packet
    slow.ws.pause(); // stops reading its TCP socket: the kernel buffers fill, then ours

    const closed = waitFor<[string, Error]>(slowSession, "close", 10_000);
    const highest = await flood(slowSession, 256 * 1024 * 1024);
    const [reason, description] = await closed;

    assert.equal(reason, "slow consumer");
    assert.match(description.message, /slow consumer/);
    assert.ok(highest <= bound + MESSAGE.length, `buffered ${highest} B, bound ${bound} B`);
    assert.equal(harness.engine.metrics.slowConsumerDisconnects, 1);
    assert.equal(harness.engine.clients.has(slowSession.id), false);
    // Everyone else carries on.
    fastSession.send("still here");
    assert.equal(await fast.next(), "4still here");
    assert.equal(fastSession.readyState, "open");
  });

  it("drops volatile messages for a congested client before closing it", async () => {
    harness = await startEngine({ transports: ["websocket"], maxBufferedBytes: 256 * 1024 });
    const serverSide = harness.nextConnection();
    const client = harness.rawWebSocket("&transport=websocket");
    await client.opened();
    const session = await serverSide;
    client.ws.pause();
    // Fill until the session reports a backlog it cannot write.
    while (session.readyState === "open" && session.bufferedAmount < 128 * 1024) {
      session.send(MESSAGE);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(session.readyState, "open");
    assert.equal(session.trySend("v", { volatile: true }), false);
    assert.equal(session.readyState, "open", "a dropped volatile message closes nothing");
    client.ws.resume();
    await waitFor(session, "drain", 5000);
    assert.equal(session.trySend("v", { volatile: true }), true);
  });

  it("closes a polling session whose client stops polling past maxBufferedPackets", async () => {
    harness = await startEngine({ transports: ["polling"], maxBufferedPackets: 10 });
    const serverSide = harness.nextConnection();
    await pollingHandshake(harness);
    const session = await serverSide;
    const closed = waitFor<[string]>(session, "close");
    for (let i = 0; i < 10; i++) assert.equal(session.trySend(`m${i}`), true);
    assert.equal(session.trySend("v", { volatile: true }), false, "no GET pending: dropped");
    assert.equal(session.trySend("one too many"), false);
    const [reason] = await closed;
    assert.equal(reason, "slow consumer");
    assert.equal(harness.engine.metrics.slowConsumerDisconnects, 1);
  });

  it("counts packets waiting for a poll in bufferedAmount and drains them on the next GET", async () => {
    harness = await startEngine({ transports: ["polling"] });
    const serverSide = harness.nextConnection();
    const { sid } = await pollingHandshake(harness);
    const session = await serverSide;
    session.send("hello");
    session.send(Buffer.from([1, 2, 3]));
    assert.equal(session.bufferedAmount, "hello".length + 1 + 3 + 1);
    const drained = waitFor(session, "drain");
    const poll = await httpRequest(harness.url(`&transport=polling&sid=${sid}`));
    assert.equal(poll.text, "4hello\x1ebAQID");
    await drained;
    assert.equal(session.bufferedAmount, 0);
  });

  it("keeps a snapshot of the handshake request, not the request itself", async () => {
    harness = await startEngine({ transports: ["websocket"] });
    const serverSide = harness.nextConnection();
    const client = harness.rawWebSocket("&transport=websocket&room=blue");
    await client.opened();
    const session = await serverSide;
    assert.equal(session.request.method, "GET");
    assert.match(session.request.url, /[?&]room=blue(&|$)/);
    assert.equal(session.request.headers.upgrade, "websocket");
    assert.equal(session.request.socket.remoteAddress, "127.0.0.1");
    assert.equal(session.request.secure, false);
    assert.equal("on" in session.request, false, "no stream: the IncomingMessage was let go");
  });
});

describe("engine write coalescing", () => {
  let harness: EngineHarness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  for (const perMessageDeflate of [false, true]) {
    it(`delivers, in order, many messages sent in one turn (permessage-deflate ${perMessageDeflate})`, async () => {
      harness = await startEngine({ transports: ["websocket"], perMessageDeflate });
      await deliversInOrder(harness);
    });
  }
});

/** Many messages sent in one turn, text, binary and shared, arrive whole and in order. */
async function deliversInOrder(harness: EngineHarness): Promise<void> {
  const serverSide = harness.nextConnection();
  const client = harness.rawWebSocket("&transport=websocket");
  await client.opened();
  const session = await serverSide;
  await client.next(); // open packet
  for (let i = 0; i < 100; i++) session.send(`m${i}`);
  session.send(Buffer.from([7, 7]));
  assert.ok(session.sendShared(["shared", Buffer.from([9])]));
  for (let i = 0; i < 100; i++) assert.equal(await client.next(), `4m${i}`);
  assert.deepEqual([...((await client.next()) as Buffer)], [7, 7]);
  assert.equal(await client.next(), "4shared");
  assert.deepEqual([...((await client.next()) as Buffer)], [9]);
  await until(() => session.bufferedAmount === 0, 3000, "the buffer to empty");
}
