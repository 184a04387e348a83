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
});
