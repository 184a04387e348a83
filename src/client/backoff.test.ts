import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { backoff } from "./backoff.js";

const mid = () => 0.5; // no jitter: 2 * 0.5 - 1 = 0

describe("backoff", () => {
  it("doubles from reconnectionDelay up to reconnectionDelayMax", () => {
    const opts = { reconnectionDelay: 100, reconnectionDelayMax: 1000 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 50].map((a) => backoff(a, opts, mid)),
      [100, 200, 400, 800, 1000, 1000, 1000],
    );
  });

  it("uses socket.io-client's defaults: 1000 ms doubling to 5000 ms, jitter 0.5", () => {
    assert.equal(backoff(0, {}, mid), 1000);
    assert.equal(backoff(3, {}, mid), 5000);
    assert.equal(
      backoff(0, {}, () => 0),
      500,
    );
    assert.equal(
      backoff(0, {}, () => 0.999999),
      1500,
    );
  });

  it("moves by at most randomizationFactor of the delay", () => {
    const opts = {
      reconnectionDelay: 1000,
      reconnectionDelayMax: 100_000,
      randomizationFactor: 0.2,
    };
    assert.equal(
      backoff(1, opts, () => 0),
      1600,
    );
    assert.equal(
      backoff(1, opts, () => 0.75),
      2200,
    );
    assert.equal(
      backoff(1, { ...opts, randomizationFactor: 0 }, () => 0),
      2000,
    );
  });

  it("always stays within [0, max] and within the jitter band", () => {
    fc.assert(
      fc.property(
        fc.nat(100),
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, delay, max, factor, r) => {
          const opts = {
            reconnectionDelay: delay,
            reconnectionDelayMax: max,
            randomizationFactor: factor,
          };
          const ms = backoff(attempt, opts, () => r);
          const base = Math.min(delay * 2 ** attempt, max);
          assert.ok(ms >= 0 && ms <= max);
          assert.ok(Math.abs(ms - base) <= base * factor + 1);
        },
      ),
    );
  });
});
