/**
 * The polling -> WebSocket upgrade, driven step by step with raw HTTP and `ws` clients
 * (engine.io-protocol v4 §upgrade): probe, noop to the pending GET, switch, buffered packets
 * flushed on WebSocket, and attempts that stall, fail or overlap.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { EngineSocket } from "../src/engine/index.js";
import {
  type EngineHarness,
  httpRequest,
  pollingHandshake,
  type RawWebSocket,
  refusedUpgrade,
  startEngine,
  until,
  waitFor,
} from "./engine-helpers.js";

const UPGRADE_TIMEOUT = 150;

describe("engine upgrade", () => {
  let harness: EngineHarness;
  let sid: string;
  let session: EngineSocket;

  beforeEach(async () => {
    harness = await startEngine({ upgradeTimeout: UPGRADE_TIMEOUT });
    ({ sid } = await pollingHandshake(harness));
    session = harness.engine.clients.get(sid)!;
  });
  afterEach(() => harness.stop());

  const poll = () => httpRequest(harness.url(`&transport=polling&sid=${sid}`));
  const probe = async (): Promise<RawWebSocket> => {
    const raw = harness.rawWebSocket(`&transport=websocket&sid=${sid}`);
    await raw.opened();
    raw.ws.send("2probe");
    assert.equal(await raw.next(), "3probe");
    return raw;
  };

  it("upgrades: probe, noop to the pending GET, then buffered packets on the WebSocket", async () => {
    const pending = poll();
    await until(() => session.transport.writable, 3000, "the GET to be pending");
    const upgrading = waitFor(session, "upgrading");
    const raw = await probe();
    await upgrading;
    assert.equal((await pending).text, "6", "the pending GET is answered with a noop");
    assert.equal(session.upgrading, true);

    session.send("while paused");
    const upgraded = waitFor(session, "upgrade");
    raw.ws.send("5");
    await upgraded;
    assert.equal(session.transport.name, "websocket");
    assert.equal(session.upgraded, true);
    assert.equal(session.upgrading, false);
    assert.equal(await raw.next(), "4while paused");

    const received = waitFor<[string]>(session, "message");
    raw.ws.send("4over ws");
    assert.equal((await received)[0], "over ws");

    const late = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
      method: "POST",
      body: "4late",
    });
    assert.equal(late.status, 400);
    assert.equal(late.text, '{"code":3,"message":"Bad request"}');
    assert.equal(session.readyState, "open");
  });

  it("answers a GET that arrives after the probe with a noop at once", async () => {
    await probe();
    assert.equal((await poll()).text, "6");
  });

  it("drops a stalled upgrade after upgradeTimeout and keeps the session on polling", async () => {
    const raw = await probe();
    await raw.closed();
    assert.equal(session.upgrading, false);
    assert.equal(session.transport.name, "polling");
    assert.equal(session.readyState, "open");
    session.send("still polling");
    assert.equal((await poll()).text, "4still polling");
    // A later attempt succeeds.
    const second = await probe();
    const upgraded = waitFor(session, "upgrade");
    second.ws.send("5");
    await upgraded;
  });

  it("keeps the session on polling when the probing WebSocket goes away", async () => {
    const raw = await probe();
    const failed = until(() => !session.upgrading, 3000, "the attempt to end");
    raw.ws.terminate();
    await failed;
    assert.equal(session.transport.name, "polling");
    assert.equal(session.readyState, "open");
  });

  it("refuses a second upgrade while one is under way", async () => {
    await probe();
    const refused = await refusedUpgrade(
      `ws://127.0.0.1:${harness.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
    );
    assert.deepEqual(refused, { status: 400, body: '{"code":3,"message":"Bad request"}' });
  });

  it("ends the attempt on a packet other than probe or upgrade", async () => {
    const raw = await probe();
    raw.ws.send("4too early");
    await raw.closed();
    assert.equal(session.upgrading, false);
    assert.equal(session.readyState, "open");
  });

  it("lets an upgrade under way finish before closing, then closes on the WebSocket", async () => {
    const raw = await probe();
    const closed = waitFor<[string]>(session, "close");
    session.send("bye");
    session.close();
    assert.equal(session.readyState, "closing");
    raw.ws.send("5");
    assert.equal(await raw.next(), "4bye", "buffered packets go out on the new transport");
    await raw.closed();
    assert.equal((await closed)[0], "forced close");
    assert.equal(session.transport.name, "websocket");
  });

  it("closes over polling when the upgrade under way stalls", async () => {
    const raw = await probe();
    const closed = waitFor<[string]>(session, "close");
    session.send("bye");
    session.close();
    await raw.closed();
    assert.equal((await poll()).text, "4bye\x1e1", "the next GET carries the buffer and a close");
    assert.equal((await closed)[0], "forced close");
    assert.equal(session.readyState, "closed");
  });
});

describe("engine upgrade disabled", () => {
  it("advertises no upgrades and refuses one when allowUpgrades is false", async () => {
    const harness = await startEngine({ allowUpgrades: false });
    try {
      const { sid, open } = await pollingHandshake(harness);
      assert.deepEqual(open.upgrades, []);
      const refused = await refusedUpgrade(
        `ws://127.0.0.1:${harness.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
      );
      assert.equal(refused.status, 400);
    } finally {
      await harness.stop();
    }
  });

  it("advertises websocket only on polling sessions", async () => {
    const harness = await startEngine();
    try {
      const { open } = await pollingHandshake(harness);
      assert.deepEqual(open.upgrades, ["websocket"]);
      const raw = harness.rawWebSocket("&transport=websocket");
      const wsOpen = JSON.parse(String(await raw.next()).slice(1)) as { upgrades: unknown };
      assert.deepEqual(wsOpen.upgrades, []);
    } finally {
      await harness.stop();
    }
  });
});
