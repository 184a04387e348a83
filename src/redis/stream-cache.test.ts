import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StoredSession } from "../adapter/session-codec.js";
import { StreamCache } from "./stream-cache.js";
import type { StreamBroadcast } from "./stream-codec.js";

/** A stored broadcast `["m", n]` to `rooms`, with entry id `<n>-0`. */
function entry(
  n: number,
  rooms: string[] = ["r"],
  extra: { uid?: string; isLocal?: boolean; except?: string[] } = {},
): StreamBroadcast {
  return {
    id: `${n}-0`,
    uid: extra.uid ?? "node-a",
    nsp: "/",
    isLocal: extra.isLocal ?? false,
    packet: { type: 2, nsp: "/", data: ["m", n] },
    opts: { rooms, except: extra.except ?? [] },
  };
}

const session: StoredSession = {
  sid: "s1",
  pid: "p1",
  rooms: ["s1", "r"],
  data: {},
  startOffset: undefined,
  node: "node-a",
};

const seqs = (missed: unknown[][] | undefined): unknown[] | undefined =>
  missed?.map((payload) => payload[1]);

function cache(maxPackets = 100, maxAge = 60_000): StreamCache {
  return new StreamCache({ maxPackets, maxAge });
}

describe("StreamCache", () => {
  test("collects what a session missed after an offset, each payload ending with its id", () => {
    const c = cache();
    c.start("10-0");
    for (const n of [11, 12, 13]) c.add(entry(n));
    assert.deepEqual(c.collect("11-0", session), [
      ["m", 12, "12-0"],
      ["m", 13, "13-0"],
    ]);
    assert.deepEqual(seqs(c.collect("10-0", session)), [11, 12, 13]);
    assert.deepEqual(c.collect("13-0", session), []);
    // an offset between entries (a message entry's id, say) works too
    assert.deepEqual(seqs(c.collect("11-5", session)), [12, 13]);
  });

  test("does not cover offsets before its start, nor anything before it started", () => {
    const c = cache();
    c.add(entry(5)); // before start: ignored
    assert.equal(c.from, undefined);
    assert.equal(c.collect("1-0", session), undefined);
    c.start("10-0");
    c.add(entry(11));
    assert.equal(c.collect("9-0", session), undefined);
    assert.deepEqual(seqs(c.collect("10-0", session)), [11]);
  });

  test("keeps the session's rooms only, minus except, and local entries of its own node", () => {
    const c = cache();
    c.start("0-0");
    c.add(entry(1, ["r"]));
    c.add(entry(2, ["other"]));
    c.add(entry(3, [])); // whole namespace
    c.add(entry(4, [], { except: ["r"] }));
    c.add(entry(5, ["s1"], { isLocal: true, uid: "node-a" })); // a socket.emit on its node
    c.add(entry(6, [], { isLocal: true, uid: "node-b" })); // another node's local broadcast
    assert.deepEqual(seqs(c.collect("0-0", session)), [1, 3, 5]);
  });

  test("evicting past maxPackets moves its start, so older offsets are no longer covered", () => {
    const c = cache(3);
    c.start("0-0");
    for (let n = 1; n <= 5; n++) c.add(entry(n));
    assert.equal(c.from, "2-0");
    assert.equal(c.collect("1-0", session), undefined);
    assert.deepEqual(seqs(c.collect("2-0", session)), [3, 4, 5]);
  });

  test("evicts entries older than maxAge", () => {
    const c = cache(100, 1000);
    c.start("0-0");
    c.add(entry(1), 0);
    c.add(entry(2), 500);
    assert.deepEqual(seqs(c.collect("0-0", session, 900)), [1, 2]);
    assert.equal(c.collect("0-0", session, 1200), undefined);
    assert.deepEqual(seqs(c.collect("1-0", session, 1200)), [2]);
  });

  test("prepends older entries read from Redis, without the entry at its old start twice", () => {
    const c = cache();
    c.start("10-0");
    c.add(entry(11));
    // read from Redis: entries 5..10, both ends included (10 was the stream's tail)
    const older = [5, 7, 10].map((n) => entry(n));
    assert.equal(c.prepend(older, "5-0", "10-0"), true);
    assert.equal(c.from, "5-0");
    assert.deepEqual(seqs(c.collect("5-0", session)), [7, 10, 11]);
    // a second extension further back, whose read also ends at the current start
    assert.equal(c.prepend([entry(2), entry(5)], "2-0", "5-0"), true);
    assert.deepEqual(seqs(c.collect("1-9", session)), undefined);
    assert.deepEqual(seqs(c.collect("2-0", session)), [5, 7, 10, 11]);
  });

  test("refuses entries read while its start moved (evictions meanwhile)", () => {
    const c = cache(2);
    c.start("10-0");
    c.add(entry(11));
    c.add(entry(12));
    c.add(entry(13)); // evicts 11: the cache now starts at 11
    assert.equal(c.prepend([entry(5)], "5-0", "10-0"), false);
    assert.equal(c.from, "11-0");
    assert.deepEqual(seqs(c.collect("11-0", session)), [12, 13]);
  });

  test("finds the first entry after an offset among many (binary search)", () => {
    const c = cache(10_000);
    c.start("0-0");
    for (let n = 1; n <= 2000; n++) c.add(entry(n * 2));
    assert.deepEqual(seqs(c.collect("3000-0", session))?.slice(0, 2), [3002, 3004]);
    assert.deepEqual(seqs(c.collect("3001-0", session))?.slice(0, 2), [3002, 3004]);
    assert.equal(c.collect("3999-0", session)?.length, 1);
  });
});
