import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeSocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import type { BroadcastOptions } from "./adapter.js";
import { MemoryRecoveryStore } from "./recovery-store.js";

const ALL: BroadcastOptions = { rooms: new Set(), except: new Set(), flags: {} };
const to = (...rooms: string[]): BroadcastOptions => ({
  rooms: new Set(rooms),
  except: new Set(),
  flags: {},
});
const settings = {
  maxDisconnectionDuration: 1000,
  maxPackets: 100,
  skipMiddlewares: true,
  maxAcks: 10,
};
const session = (pid: string, rooms: string[], startOffset?: string) => ({
  sid: `s-${pid}`,
  pid,
  rooms,
  data: { pid },
  startOffset,
});

describe("MemoryRecoveryStore", () => {
  test("appends the offset as the last element and returns ordered offsets", () => {
    const store = new MemoryRecoveryStore(settings);
    const a = store.append(["ev", 1], ALL, 0);
    const b = store.append(["ev", 2], ALL, 0);
    assert.deepEqual(a, ["ev", 1, "1"]);
    assert.deepEqual(b, ["ev", 2, "2"]);
    assert.equal(store.lastOffset, "2");
  });

  test("restores the packets after the offset that match the session's rooms", () => {
    const store = new MemoryRecoveryStore(settings);
    const first = store.append(["a"], ALL, 0);
    store.append(["b"], to("red"), 0);
    store.append(["c"], to("blue"), 0);
    store.append(["d"], { rooms: new Set(), except: new Set(["red"]), flags: {} }, 0);
    store.append(["e"], to("red", "blue"), 0);
    store.persist(session("p", ["red"]), 10);
    const restored = store.restore("p", first.at(-1) as string, 20);
    assert.deepEqual(
      restored?.missedPackets.map((p) => p[0]),
      ["b", "e"],
    );
    assert.equal(restored?.sid, "s-p");
    assert.deepEqual(restored?.data, { pid: "p" });
  });

  test("without an offset, restores from the session's start offset", () => {
    const store = new MemoryRecoveryStore(settings);
    store.append(["before"], ALL, 0);
    const start = store.lastOffset;
    store.append(["after"], ALL, 0);
    store.persist(session("p", [], start), 0);
    assert.deepEqual(
      store.restore("p", undefined, 0)?.missedPackets.map((p) => p[0]),
      ["after"],
    );
  });

  test("a session restores once, and not after it expired", () => {
    const store = new MemoryRecoveryStore(settings);
    const offset = store.append(["x"], ALL, 0).at(-1) as string;
    store.persist(session("p", []), 0);
    assert.ok(store.restore("p", offset, 0));
    assert.equal(store.restore("p", offset, 0), undefined);
    store.persist(session("q", []), 0);
    assert.equal(store.restore("q", offset, 1001), undefined);
  });

  test("packets past maxPackets or older than the window are trimmed, and recovery then fails", () => {
    const store = new MemoryRecoveryStore({ ...settings, maxPackets: 3 });
    const offset = store.append(["0"], ALL, 0).at(-1) as string;
    for (let i = 1; i <= 5; i++) store.append([String(i)], ALL, 0);
    store.persist(session("p", []), 0);
    assert.equal(store.restore("p", offset, 0), undefined);

    const timed = new MemoryRecoveryStore(settings);
    const seen = timed.append(["seen"], ALL, 0).at(-1) as string;
    timed.append(["missed but expired"], ALL, 0);
    timed.append(["new"], ALL, 1500);
    timed.persist(session("p", []), 1500);
    assert.equal(timed.restore("p", seen, 1500), undefined);
    // Only the packet the client already had expired: nothing is lost, recovery works.
    const fine = new MemoryRecoveryStore(settings);
    const had = fine.append(["had"], ALL, 0).at(-1) as string;
    fine.append(["new"], ALL, 1500);
    fine.persist(session("p", []), 1500);
    assert.deepEqual(
      fine.restore("p", had, 1500)?.missedPackets.map((p) => p[0]),
      ["new"],
    );
  });

  test("malformed or future offsets are refused", () => {
    const store = new MemoryRecoveryStore(settings);
    store.append(["x"], ALL, 0);
    for (const bad of ["zzzzzzzzzzzzzzzz", "-1", "", "9999"]) {
      store.persist(session("p", []), 0);
      assert.equal(store.restore("p", bad, 0), undefined, bad);
    }
  });

  test("memory stays bounded over many appends", () => {
    const store = new MemoryRecoveryStore({ ...settings, maxPackets: 10 });
    for (let i = 0; i < 50_000; i++) store.append([i], ALL, 0);
    const offset = store.lastOffset!;
    store.persist(session("p", []), 0);
    assert.deepEqual(store.restore("p", offset, 0)?.missedPackets, []);
  });

  test("keeps a packet as its encoded text and restores the same data from it", () => {
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    const store = new MemoryRecoveryStore(settings);
    const sent: unknown[][] = [];
    const cases: [string, unknown[]][] = [
      ["/", ["ev", { deep: nested(40) }]], // deeper than the decoder's limit of 32
      ["/", ["ev", "a,b", { s: "2/x,[" }]],
      ["/admin", ["ev", "x", 3]],
      ["/a[b", ["ev", null]],
    ];
    for (const [nsp, data] of cases) {
      const withOffset = store.append(data, ALL, 0);
      sent.push(withOffset);
      store.keepEncoded(
        encodeSocketPacket({ type: SocketPacketType.EVENT, nsp, data: withOffset }),
      );
    }
    // Binary data is two or more parts: the data itself is kept.
    const bytes = new Uint8Array([1, 2, 3]);
    const binary = store.append(["bin", bytes], ALL, 0);
    sent.push(binary);
    store.keepEncoded(encodeSocketPacket({ type: SocketPacketType.EVENT, nsp: "/", data: binary }));
    // Without an append since the last call, keepEncoded changes nothing.
    store.keepEncoded(['2["not","this"]']);
    store.persist(session("p", []), 0);
    const restored = store.restore("p", "0", 0);
    assert.deepEqual(restored?.missedPackets, sent);
    assert.equal((restored?.missedPackets[4]?.[1] as Uint8Array) === bytes, true);
  });
});
