import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineQueue, Heartbeat, type HeartbeatTarget } from "./heartbeat.js";

/** Collects expirations and resolves once `count` have happened (or rejects after 2 s). */
function collect<T>(count: number): {
  seen: T[];
  onExpire: (item: T) => void;
  done: Promise<void>;
} {
  const seen: T[] = [];
  let resolve!: () => void;
  // This guard timer is not unref'd: it keeps the event loop alive while the queue's own
  // (unref'd) timer runs.
  const done = new Promise<void>((res, rej) => {
    const guard = setTimeout(() => rej(new Error(`only ${seen.length} of ${count} expired`)), 2000);
    resolve = () => {
      clearTimeout(guard);
      res();
    };
  });
  return {
    seen,
    done,
    onExpire(item) {
      seen.push(item);
      if (seen.length === count) resolve();
    },
  };
}

describe("DeadlineQueue", () => {
  it("expires items in the order they were last added, after the delay", async () => {
    const sink = collect<string>(3);
    const queue = new DeadlineQueue(20, sink.onExpire);
    const started = performance.now();
    queue.add("a");
    queue.add("b");
    queue.add("c");
    queue.add("a"); // re-adding moves "a" behind "c"
    await sink.done;
    assert.deepEqual(sink.seen, ["b", "c", "a"]);
    assert.ok(performance.now() - started >= 19);
    assert.equal(queue.size, 0);
  });

  it("never expires a deleted item and stops its timer when empty", async () => {
    const sink = collect<string>(1);
    const queue = new DeadlineQueue(10, sink.onExpire);
    queue.add("gone");
    queue.add("kept");
    queue.delete("gone");
    assert.equal(queue.has("gone"), false);
    await sink.done;
    assert.deepEqual(sink.seen, ["kept"]);
    queue.add("x");
    queue.clear();
    assert.equal(queue.size, 0);
  });

  it("handles items added from inside an expiry", async () => {
    const sink = collect<number>(3);
    const queue: DeadlineQueue<number> = new DeadlineQueue(5, (n) => {
      sink.onExpire(n);
      if (n < 3) queue.add(n + 1);
    });
    queue.add(1);
    await sink.done;
    assert.deepEqual(sink.seen, [1, 2, 3]);
  });
});

describe("Heartbeat", () => {
  it("pings, then times out a target that never pongs", async () => {
    const events: string[] = [];
    const heartbeat = new Heartbeat(10, 10);
    const guard = setTimeout(() => {}, 2000);
    const timedOut = new Promise<void>((resolve) => {
      heartbeat.start({
        sendPing: () => events.push("ping"),
        onPingTimeout: () => {
          events.push("timeout");
          resolve();
        },
      });
    });
    await timedOut;
    clearTimeout(guard);
    assert.deepEqual(events, ["ping", "timeout"]);
  });

  it("keeps pinging a target that pongs, and stops when told", async () => {
    const heartbeat = new Heartbeat(5, 50);
    const guard = setTimeout(() => {}, 2000);
    let pings = 0;
    let timeouts = 0;
    const threePings = new Promise<void>((resolve) => {
      const target: HeartbeatTarget = {
        sendPing() {
          pings++;
          heartbeat.onPong(target);
          if (pings === 3) resolve();
        },
        onPingTimeout: () => timeouts++,
      };
      heartbeat.start(target);
    });
    await threePings;
    clearTimeout(guard);
    heartbeat.clear();
    assert.equal(timeouts, 0);
  });
});
