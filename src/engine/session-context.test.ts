import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Heartbeat } from "./heartbeat.js";
import { SessionContext } from "./session-context.js";
import { encodeWebSocketFrame } from "./transports/websocket.js";

const SETTINGS = {
  pingInterval: 25_000,
  pingTimeout: 20_000,
  maxPayload: 1e6,
  upgradeTimeout: 10_000,
  maxBufferedBytes: 1024,
  maxBufferedPackets: 10,
  rateMessages: 0,
  rateInterval: 1000,
  rateDrops: false,
};

describe("SessionContext.framesFor", () => {
  it("encodes an array once while the same array is passed, again for a new one", () => {
    const context = new SessionContext(SETTINGS, new Heartbeat(25_000, 20_000), () => {});
    let calls = 0;
    const encoder = (data: string | Uint8Array) => {
      calls++;
      return encodeWebSocketFrame(data);
    };
    const parts = ['2["a"]', new Uint8Array([1])];
    const first = context.framesFor(parts, encoder);
    assert.equal(context.framesFor(parts, encoder), first);
    assert.equal(calls, 2);
    assert.equal(context.sharedBytes, 2 + 7 + 2 + 1);
    const other = context.framesFor(['2["a"]'], encoder);
    assert.notEqual(other, first);
    assert.equal(calls, 3);
    assert.equal(context.sharedBytes, 9);
  });
});

describe("SessionContext.openPacketData", () => {
  it("is the JSON of the open packet's fields, in engine.io's order, for any sid", () => {
    const context = new SessionContext(SETTINGS, new Heartbeat(25_000, 20_000), () => {});
    const none: readonly ("polling" | "websocket")[] = [];
    const websocket: readonly ("polling" | "websocket")[] = ["websocket"];
    for (const [sid, upgrades] of [
      ["abc", none],
      ['we"ird\\id', websocket],
      ["x", none],
      ["y", websocket],
    ] as const) {
      const expected = JSON.stringify({
        sid,
        upgrades,
        pingInterval: 25_000,
        pingTimeout: 20_000,
        maxPayload: 1e6,
      });
      assert.equal(context.openPacketData(sid, upgrades), expected);
    }
  });

  it("adds the extra fields, their JSON kept only for a frozen object of primitives", () => {
    const context = new SessionContext(SETTINGS, new Heartbeat(25_000, 20_000), () => {});
    const open = (extra: Record<string, unknown>) =>
      JSON.parse(context.openPacketData("s", [], extra)) as Record<string, unknown>;
    const shared = Object.freeze({ sb_connect: "/" });
    assert.equal(open(shared).sb_connect, "/");
    assert.equal(open(shared).sb_connect, "/");
    assert.equal(open(Object.freeze({ sb_connect: "/chat" })).sb_connect, "/chat");
    // Objects that may change between two handshakes are written anew each time.
    const mutable: Record<string, unknown> = { n: 1 };
    assert.equal(open(mutable).n, 1);
    mutable.n = 2;
    assert.equal(open(mutable).n, 2);
    const inner = { n: 1 };
    const nested = Object.freeze({ inner });
    assert.deepEqual(open(nested).inner, { n: 1 });
    inner.n = 2;
    assert.deepEqual(open(nested).inner, { n: 2 });
    let calls = 0;
    const computed = Object.freeze({
      get n() {
        return ++calls;
      },
    });
    assert.equal(open(computed).n, 1);
    assert.equal(open(computed).n, 2, "a getter is read again");
    assert.equal(open(Object.freeze({})).sid, "s");
    assert.deepEqual(Object.keys(open(Object.freeze({}))), [
      "sid",
      "upgrades",
      "pingInterval",
      "pingTimeout",
      "maxPayload",
    ]);
  });
});
