/**
 * Heartbeat (engine.io-protocol v4 §heartbeat): the server pings every pingInterval and
 * closes a session with "ping timeout" when no pong comes back within pingTimeout.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  type EngineHarness,
  httpRequest,
  pollingHandshake,
  startEngine,
  waitFor,
} from "./engine-helpers.js";

const PING_INTERVAL = 40;
const PING_TIMEOUT = 60;

describe("engine heartbeat", () => {
  let harness: EngineHarness;
  beforeEach(async () => {
    harness = await startEngine({ pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT });
  });
  afterEach(() => harness.stop());

  for (const transport of ["polling", "websocket"] as const) {
    it(`keeps an answering engine.io-client alive over ${transport}`, async () => {
      const serverSide = harness.nextConnection();
      const client = harness.connect({ transports: [transport] });
      const server = await serverSide;
      let beats = 0;
      const fiveBeats = new Promise<void>((resolve) => {
        server.on("heartbeat", () => ++beats === 5 && resolve());
      });
      let closeReason: string | undefined;
      server.on("close", (reason) => {
        closeReason = reason;
      });
      await fiveBeats;
      assert.equal(closeReason, undefined);
      assert.equal(server.readyState, "open");
      assert.equal(client.readyState, "open");
    });
  }

  it("pings a raw websocket client and closes it with 'ping timeout' when it never pongs", async () => {
    const raw = harness.rawWebSocket("&transport=websocket");
    const open = JSON.parse(String(await raw.next()).slice(1)) as Record<string, unknown>;
    assert.equal(open.pingInterval, PING_INTERVAL);
    assert.equal(open.pingTimeout, PING_TIMEOUT);
    const session = harness.engine.clients.get(String(open.sid))!;
    const closed = waitFor<[string]>(session, "close");
    const started = Date.now();
    assert.equal(await raw.next(), "2");
    assert.equal((await closed)[0], "ping timeout");
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= PING_TIMEOUT - 5, `closed after ${elapsed} ms, before pingTimeout`);
    await raw.closed();
    assert.equal(harness.engine.clientsCount, 0);
  });

  it("keeps a raw websocket client alive while it answers pings", async () => {
    const raw = harness.rawWebSocket("&transport=websocket");
    const open = JSON.parse(String(await raw.next()).slice(1)) as { sid: string };
    const session = harness.engine.clients.get(open.sid)!;
    for (let i = 0; i < 4; i++) {
      assert.equal(await raw.next(), "2");
      raw.ws.send("3");
    }
    assert.equal(session.readyState, "open");
  });

  it("closes a raw polling client with 'ping timeout' when it never pongs", async () => {
    const { sid } = await pollingHandshake(harness);
    const session = harness.engine.clients.get(sid)!;
    const closed = waitFor<[string]>(session, "close");
    const poll = await httpRequest(harness.url(`&transport=polling&sid=${sid}`));
    assert.equal(poll.text, "2");
    assert.equal((await closed)[0], "ping timeout");
    const after = await httpRequest(harness.url(`&transport=polling&sid=${sid}`));
    assert.equal(after.text, '{"code":1,"message":"Session ID unknown"}');
  });

  it("accepts a pong over polling POST", async () => {
    const { sid } = await pollingHandshake(harness);
    const session = harness.engine.clients.get(sid)!;
    for (let i = 0; i < 3; i++) {
      const poll = await httpRequest(harness.url(`&transport=polling&sid=${sid}`));
      assert.equal(poll.text, "2");
      const beat = waitFor(session, "heartbeat");
      const posted = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
        method: "POST",
        body: "3",
      });
      assert.equal(posted.text, "ok");
      await beat;
    }
    assert.equal(session.readyState, "open");
  });
});
