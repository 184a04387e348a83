import assert from "node:assert/strict";
import { test } from "node:test";
import { CatchUp, type HeldPacket } from "./catch-up.js";

const all = { rooms: [], except: [] };
const packet = (seq: number): HeldPacket => ({
  seq,
  data: ["tick", seq, String(seq)],
  compress: false,
});
const microtask = () => new Promise<void>((resolve) => queueMicrotask(resolve));

test("packets the client has are skipped; later ones are held and written after the replay, in order", async () => {
  const catchUp = new CatchUp();
  catchUp.begin("s1", new Set(["s1", "room"]), 10);
  catchUp.replayedUpTo("s1", 12);
  assert.deepEqual(catchUp.intercept(packet(9), all), ["s1"], "the client has 9");
  for (const seq of [11, 12, 13, 14]) assert.deepEqual(catchUp.intercept(packet(seq), all), ["s1"]);
  const written: number[] = [];
  catchUp.claim("s1", (p) => written.push(p.seq));
  assert.deepEqual(catchUp.intercept(packet(15), all), ["s1"], "held until the claim's flush");
  assert.deepEqual(written, [], "nothing before the socket's CONNECT and replay");
  await microtask();
  assert.deepEqual(written, [13, 14, 15], "11 and 12 were in the replay");
  assert.deepEqual(catchUp.intercept(packet(16), all), [], "live from now on");
  assert.equal(catchUp.size, 0);
});

test("after the flush, a consumer behind the client's offset still skips what it has", async () => {
  const catchUp = new CatchUp();
  catchUp.begin("s1", new Set(["s1"]), 20);
  catchUp.claim("s1", () => assert.fail("nothing was held"));
  await microtask();
  assert.deepEqual(catchUp.intercept(packet(18), all), ["s1"]);
  catchUp.passed(19);
  assert.equal(catchUp.size, 1);
  catchUp.passed(20);
  assert.equal(catchUp.size, 0, "past the offset: no filter left");
});

test("packets for other rooms are neither held nor skipped; a cancelled restore holds nothing", () => {
  const catchUp = new CatchUp();
  catchUp.begin("s1", new Set(["s1", "red"]), 0);
  assert.deepEqual(catchUp.intercept(packet(1), { rooms: ["blue"], except: [] }), []);
  assert.deepEqual(catchUp.intercept(packet(2), { rooms: [], except: ["red"] }), []);
  assert.deepEqual(catchUp.intercept(packet(3), { rooms: ["red"], except: [] }), ["s1"]);
  catchUp.cancel("s1");
  assert.deepEqual(catchUp.intercept(packet(4), all), []);
  assert.equal(catchUp.size, 0);
});

test("after the flush, a consumer behind the replay's end still skips what was replayed", async () => {
  const catchUp = new CatchUp();
  catchUp.begin("s1", new Set(["s1"]), 10);
  catchUp.replayedUpTo("s1", 15); // the replay read to the stream's end, ahead of the consumer
  catchUp.claim("s1", () => assert.fail("nothing was held"));
  await microtask();
  assert.deepEqual(catchUp.intercept(packet(12), all), ["s1"], "12 was in the replay");
  catchUp.passed(14);
  assert.equal(catchUp.size, 1);
  assert.deepEqual(catchUp.intercept(packet(16), all), [], "live from now on");
  assert.equal(catchUp.size, 0);
});
