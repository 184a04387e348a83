import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import {
  BucketQueue,
  DeadlineQueue,
  Heartbeat,
  type HeartbeatTarget,
  MAX_BUCKET_WIDTH,
} from "./heartbeat.js";

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

/** A target that records when each of its callbacks ran (performance.now() time). */
interface Recorder extends HeartbeatTarget {
  readonly name: string;
  readonly pings: number[];
  readonly timeouts: number[];
}

function recorder(name: string, onPing?: (self: Recorder) => void): Recorder {
  const self: Recorder = {
    name,
    pings: [],
    timeouts: [],
    heartbeatSlot: 0,
    sendPing() {
      self.pings.push(performance.now());
      onPing?.(self);
    },
    onPingTimeout() {
      self.timeouts.push(performance.now());
    },
  };
  return self;
}

/**
 * Counts synchronous runs of `note()`: calls made from one timer callback count once (the
 * microtask queue runs only after the callback returns).
 */
function batchCounter(): { note(): void; readonly count: number } {
  let count = 0;
  let isOpen = false;
  return {
    note() {
      if (isOpen) return;
      count++;
      isOpen = true;
      queueMicrotask(() => {
        isOpen = false;
      });
    },
    get count() {
      return count;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("BucketQueue", () => {
  it("picks a bucket width of an eighth of the delay, between 1 ms and MAX_BUCKET_WIDTH", () => {
    assert.equal(new BucketQueue(5, 1, () => {}).width, 1);
    assert.equal(new BucketQueue(40, 1, () => {}).width, 5);
    assert.equal(new BucketQueue(25_000, 1, () => {}).width, MAX_BUCKET_WIDTH);
  });

  it("expires a target no earlier than the delay and at most a bucket width later", async () => {
    const delay = 80;
    const fired = new Map<HeartbeatTarget, number>();
    const added = new Map<HeartbeatTarget, number>();
    const sink = collect<HeartbeatTarget>(12);
    const batches = batchCounter();
    const queue = new BucketQueue(delay, 1, (target) => {
      batches.note();
      fired.set(target, performance.now());
      sink.onExpire(target);
    });
    // Twelve targets added 3 ms apart: about 36 ms, so four or five buckets of 10 ms.
    for (let i = 0; i < 12; i++) {
      const target = recorder(`t${i}`);
      added.set(target, performance.now());
      queue.add(target);
      await sleep(3);
    }
    await sink.done;
    for (const [target, at] of added) {
      const elapsed = fired.get(target)! - at;
      assert.ok(elapsed >= delay, `expired after ${elapsed} ms, before the delay`);
      // One width late at most, plus what a busy machine adds to a timer.
      assert.ok(elapsed < delay + queue.width + 40, `expired after ${elapsed} ms`);
      assert.equal(target.heartbeatSlot, 0);
    }
    // Targets of one bucket expire together, in one timer callback: 4 or 5 of them, or a
    // few more if the sleeps overran.
    assert.ok(batches.count <= 8, `${batches.count} timer callbacks for 12 targets in ~36 ms`);
    assert.equal(queue.entries, 0);
  });

  it("expires a target added again once, after its last add", async () => {
    const sink = collect<HeartbeatTarget>(1);
    const queue = new BucketQueue(40, 1, sink.onExpire);
    const target = recorder("again");
    queue.add(target);
    await sleep(20);
    const lastAdd = performance.now();
    queue.add(target);
    queue.add(target); // same bucket: one entry
    await sink.done;
    const expiredAfter = performance.now() - lastAdd;
    assert.ok(expiredAfter >= 40, `expired ${expiredAfter} ms after the last add`);
    await sleep(60); // the first bucket, now stale, has fired too
    assert.equal(sink.seen.length, 1);
    assert.equal(queue.entries, 0);
  });

  it("arms its timer for the earliest bucket when an expiry adds a target", async () => {
    // a expires at ~200 ms and adds c (due ~400 ms); b, added at 100 ms, is due at ~300.
    const delay = 200;
    const at = new Map<string, number>();
    const started = performance.now();
    const sink = collect<string>(3);
    const queue = new BucketQueue(delay, 1, (target) => {
      const name = (target as Recorder).name;
      at.set(name, performance.now() - started);
      if (name === "a") queue.add(recorder("c"));
      sink.onExpire(name);
    });
    queue.add(recorder("a"));
    await sleep(100);
    const bAdded = performance.now() - started;
    queue.add(recorder("b"));
    await sink.done;
    assert.deepEqual(sink.seen, ["a", "b", "c"]);
    const bLate = at.get("b")! - bAdded - delay;
    assert.ok(bLate >= 0 && bLate < queue.width + 40, `b expired ${bLate} ms after its due time`);
  });
});

describe("Heartbeat", () => {
  it("pings after pingInterval, then times out after pingTimeout without a pong", async () => {
    const heartbeat = new Heartbeat(40, 60);
    const guard = setTimeout(() => {}, 2000);
    const started = performance.now();
    let timedOut!: () => void;
    const done = new Promise<void>((resolve) => {
      timedOut = resolve;
    });
    const target = recorder("silent");
    const onPingTimeout = target.onPingTimeout;
    target.onPingTimeout = () => {
      onPingTimeout();
      timedOut();
    };
    heartbeat.start(target);
    await done;
    clearTimeout(guard);
    assert.equal(target.pings.length, 1);
    assert.equal(target.timeouts.length, 1);
    const pingAfter = target.pings[0]! - started;
    const timeoutAfter = target.timeouts[0]! - target.pings[0]!;
    assert.ok(pingAfter >= 40 && pingAfter < 40 + 5 + 40, `pinged after ${pingAfter} ms`);
    assert.ok(timeoutAfter >= 60 && timeoutAfter < 60 + 7 + 40, `timeout ${timeoutAfter} ms`);
    assert.equal(heartbeat.entries, 0);
  });

  it("keeps pinging a target that pongs, and stops when told", async () => {
    const heartbeat = new Heartbeat(5, 50);
    const guard = setTimeout(() => {}, 2000);
    let pings = 0;
    let timeouts = 0;
    const threePings = new Promise<void>((resolve) => {
      const target: HeartbeatTarget = {
        heartbeatSlot: 0,
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

  it("pings again pingInterval after the pong, and ignores a pong nobody waits for", async () => {
    const heartbeat = new Heartbeat(30, 200);
    const pongs: number[] = [];
    const target = recorder("ponging", (self) => {
      if (self.pings.length === 1) {
        // The pong comes 20 ms after the first ping; a second, unasked one changes nothing.
        setTimeout(() => {
          pongs.push(performance.now());
          heartbeat.onPong(self);
          heartbeat.onPong(self);
        }, 20);
      }
    });
    heartbeat.start(target);
    heartbeat.onPong(target); // no ping sent yet: ignored
    await sleep(150);
    heartbeat.stop(target);
    assert.ok(target.pings.length >= 2, `${target.pings.length} pings`);
    const secondAfterPong = target.pings[1]! - pongs[0]!;
    assert.ok(secondAfterPong >= 30, `second ping ${secondAfterPong} ms after the pong`);
    assert.deepEqual(target.timeouts, []);
  });

  it("never pings or times out a stopped target, even if it pongs late", async () => {
    const heartbeat = new Heartbeat(10, 10);
    const stoppedEarly = recorder("early");
    const stoppedAfterPing = recorder("after ping", (self) => heartbeat.stop(self));
    heartbeat.start(stoppedEarly);
    heartbeat.start(stoppedAfterPing);
    heartbeat.stop(stoppedEarly);
    await sleep(60);
    heartbeat.onPong(stoppedAfterPing); // after stop: does not restart the cycle
    await sleep(40);
    assert.deepEqual(stoppedEarly.pings, []);
    assert.equal(stoppedAfterPing.pings.length, 1);
    assert.deepEqual(stoppedAfterPing.timeouts, []);
    assert.deepEqual(stoppedEarly.timeouts, []);
  });

  it("restarts a target at once after clear()", async () => {
    const heartbeat = new Heartbeat(20, 1000);
    const target = recorder("restarted");
    heartbeat.start(target);
    heartbeat.clear();
    assert.equal(target.heartbeatSlot, 0);
    heartbeat.start(target); // the same bucket as before clear(): must be scheduled again
    await sleep(80);
    heartbeat.clear();
    assert.equal(target.pings.length, 1);
  });

  it("pings each of many sessions once per interval, from one bucket per width", async () => {
    const interval = 50;
    const count = 10_000;
    const heartbeat = new Heartbeat(interval, 1000);
    const targets: Recorder[] = [];
    const batches = batchCounter();
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const target = recorder(`s${i}`, () => batches.note());
      targets.push(target);
      heartbeat.start(target);
    }
    const scheduled = performance.now();
    await sleep(interval + 60);
    for (const target of targets) heartbeat.stop(target);
    heartbeat.clear();
    for (const target of targets) {
      assert.equal(target.pings.length, 1, `${target.name} pinged ${target.pings.length} times`);
      assert.ok(target.pings[0]! - started >= interval);
    }
    // One timer callback per bucket (6 ms wide for 50 ms), not one per session.
    const buckets = Math.ceil((scheduled - started) / 6) + 1;
    assert.ok(batches.count <= buckets, `${batches.count} timer callbacks, ${buckets} buckets`);
  });

  it("keeps a stopped session alive no longer than one interval", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const heartbeat = new Heartbeat(40, 40);
    const guard = setTimeout(() => {}, 2000);
    // Weak references to a stopped target and, as a control, to a running one.
    const refs = (() => {
      const stopped = recorder("stopped");
      const running = recorder("running", (self) => heartbeat.onPong(self));
      heartbeat.start(stopped);
      heartbeat.start(running);
      heartbeat.stop(stopped);
      return { stopped: new WeakRef(stopped), running: new WeakRef(running) };
    })();
    assert.equal(heartbeat.entries, 2, "the stopped target's entry is still in its bucket");
    await sleep(40 + 5 + 30); // its bucket has fired
    gc();
    await sleep(0);
    gc();
    clearTimeout(guard);
    assert.equal(refs.stopped.deref(), undefined, "the stopped target was kept");
    assert.notEqual(refs.running.deref(), undefined, "a running target is kept (control)");
    heartbeat.clear();
  });
});
