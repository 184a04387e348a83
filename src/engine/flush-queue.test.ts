import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FlushQueue } from "./flush-queue.js";

describe("FlushQueue", () => {
  it("flushes every item once, at the end of the current turn, in order", async () => {
    const queue = new FlushQueue();
    const seen: string[] = [];
    queue.add({ flush: () => seen.push("a") });
    queue.add({ flush: () => seen.push("b") });
    assert.deepEqual(seen, [], "nothing runs synchronously");
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(seen, ["a", "b"]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["a", "b"], "each add is flushed once");
  });

  it("flushes items added while flushing on a later tick", async () => {
    const queue = new FlushQueue();
    const seen: string[] = [];
    queue.add({
      flush: () => {
        seen.push("first");
        queue.add({ flush: () => seen.push("second") });
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["first", "second"]);
  });

  it("flushes what a held span queued when the outermost span ends, with no tick", async () => {
    const queue = new FlushQueue();
    const seen: string[] = [];
    const record = (name: string) => ({ flush: () => void seen.push(name) });
    queue.hold();
    queue.add(record("a"));
    queue.hold(); // nested: a read inside a read
    queue.add(record("b"));
    queue.release();
    assert.deepEqual(seen, [], "the inner span does not flush");
    queue.release();
    assert.deepEqual(seen, ["a", "b"], "the outer span flushes at once");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["a", "b"], "and no tick flushes them again");
    // Outside a span, the tick again.
    queue.add(record("c"));
    assert.deepEqual(seen, ["a", "b"]);
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(seen, ["a", "b", "c"]);
  });

  it("leaves items queued before a span to the tick already scheduled for them", async () => {
    const queue = new FlushQueue();
    const seen: string[] = [];
    const record = (name: string) => ({ flush: () => void seen.push(name) });
    queue.add(record("before"));
    queue.hold();
    queue.add(record("inside"));
    queue.release();
    assert.deepEqual(seen, [], "the scheduled tick flushes both");
    await new Promise((resolve) => process.nextTick(resolve));
    assert.deepEqual(seen, ["before", "inside"]);
  });
});
