import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeSocketPacket } from "../protocol/socket-packet.js";
import { AckLedger } from "./ack-ledger.js";

/** The arguments of an ACK packet's text. */
function decodeAck(text: string): unknown[] {
  const decoded = decodeSocketPacket(text);
  assert.ok(decoded.ok);
  return decoded.value.data as unknown[];
}

test("a ledger survives a JSON round trip with its answered ids, not its pending ones", () => {
  const ledger = new AckLedger(10);
  const sent: [number, unknown][] = [];
  const record = (id: number, response: unknown) => {
    sent.push([id, response]);
    return undefined;
  };
  ledger.attach(record);
  assert.equal(ledger.admit(1), true);
  assert.equal(ledger.admit(2), true);
  ledger.complete(1, ["one"]);
  const revived = AckLedger.revive(JSON.parse(JSON.stringify(ledger)), 10)!;
  revived.attach(record);
  assert.equal(revived.admit(1), false); // answered: replayed, not re-run
  assert.equal(revived.admit(2), true); // pending in the old process: runs again here
  assert.deepEqual(sent, [
    [1, ["one"]],
    [1, ["one"]],
  ]);
  assert.equal(AckLedger.revive({ answered: "nope" }, 10), undefined);
  assert.equal(AckLedger.revive(undefined, 10), undefined);
});

test("the window forgets the oldest ids, and a late answer for a forgotten id is still sent", () => {
  const ledger = new AckLedger(2);
  const sent: number[] = [];
  ledger.attach((id) => {
    sent.push(id);
    return undefined;
  });
  for (const id of [1, 2, 3]) assert.equal(ledger.admit(id), true);
  assert.equal(ledger.size, 2);
  ledger.complete(1, []); // pushed out while pending
  assert.deepEqual(sent, [1]);
  assert.equal(ledger.admit(1), true);
});

test("the ring behaves like a map with a FIFO window, in use and in its snapshot (model-based)", async () => {
  const fc = await import("fast-check");
  const op = fc.oneof(
    fc.record({ kind: fc.constant("admit" as const), id: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ kind: fc.constant("complete" as const), id: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ kind: fc.constant("forget" as const), id: fc.integer({ min: 0, max: 12 }) }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.array(op, { minLength: 20, maxLength: 200 }),
      fc.boolean(),
      (capacity, ops, keepsText) => {
        const ledger = new AckLedger(capacity);
        const got: string[] = [];
        // With keepsText, the writer encodes as the socket does and the ledger keeps the text.
        ledger.attach((id, response) => {
          const args = typeof response === "string" ? decodeAck(response) : response;
          got.push(`${id}:${args[0]}`);
          if (typeof response === "string") return response;
          return keepsText ? `3${id}${JSON.stringify(response)}` : undefined;
        });
        // Reference: a FIFO list of at most `capacity` slots; a forgotten slot keeps its place.
        const model: { id: number; response: string | null }[] = [];
        const expected: string[] = [];
        for (const { kind, id } of ops) {
          const entry = model.find((e) => e.id === id);
          if (kind === "admit") {
            const runs = ledger.admit(id);
            assert.equal(runs, entry === undefined);
            if (entry === undefined) {
              model.push({ id, response: null });
              if (model.length > capacity) model.shift();
            } else if (entry.response !== null) expected.push(`${id}:${entry.response}`);
          } else if (kind === "complete") {
            ledger.complete(id, [`r${id}`]);
            if (entry?.response !== null && entry !== undefined) continue; // answered already
            if (entry !== undefined) entry.response = `r${id}`;
            expected.push(`${id}:r${id}`);
          } else {
            ledger.forget(id);
            if (entry !== undefined && entry.response === null) entry.id = Number.NaN;
          }
        }
        assert.deepEqual(got, expected);
        // A snapshot lists the answered ids oldest first, as the window will evict them.
        const answered = model
          .filter((e) => e.response !== null && !Number.isNaN(e.id))
          .map((e) => [e.id, [e.response]]);
        assert.deepEqual(ledger.toJSON().answered, answered);
      },
    ),
    { numRuns: 300 },
  );
});

test("keeps the ACK packet's text the writer returns, and snapshots it as arguments", () => {
  const ledger = new AckLedger(10);
  const written: unknown[] = [];
  ledger.attach((id, response) => {
    written.push(response);
    return typeof response === "string" ? response : `3${id}${JSON.stringify(response)}`;
  });
  assert.equal(ledger.admit(7), true);
  ledger.complete(7, [{ ok: true, n: 1 }]);
  assert.equal(ledger.admit(7), false); // the resend gets the kept text, not a new encoding
  assert.deepEqual(written, [[{ ok: true, n: 1 }], '37[{"ok":true,"n":1}]']);
  // Snapshots stay in the arguments form (what older versions read and revive).
  const snapshot = JSON.parse(JSON.stringify(ledger));
  assert.deepEqual(snapshot.answered, [[7, [{ ok: true, n: 1 }]]]);
  const revived = AckLedger.revive(snapshot, 10)!;
  const replayed: unknown[] = [];
  revived.attach((_id, response) => {
    replayed.push(response);
    return undefined;
  });
  assert.equal(revived.admit(7), false);
  assert.deepEqual(replayed, [[{ ok: true, n: 1 }]]);
});

test("a kept text nested past the decoder's limits still snapshots as its arguments", () => {
  const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
  const ledger = new AckLedger(10);
  ledger.attach((id, response) =>
    typeof response === "string" ? response : `3${id}${JSON.stringify(response)}`,
  );
  assert.equal(ledger.admit(1), true);
  ledger.complete(1, [nested(40)]);
  assert.deepEqual(ledger.toJSON().answered, [[1, [nested(40)]]]);
});

test("a snapshot of a full ring lists its answered ids oldest first", () => {
  const ledger = new AckLedger(3);
  ledger.attach(() => undefined);
  for (const id of [1, 2, 3, 4]) {
    assert.equal(ledger.admit(id), true);
    ledger.complete(id, [`r${id}`]);
  }
  assert.equal(ledger.admit(5), true); // pending: left out of the snapshot
  assert.deepEqual(ledger.toJSON().answered, [
    [3, ["r3"]],
    [4, ["r4"]],
  ]);
  // Revived, it forgets them in the same order: 3 first.
  const revived = AckLedger.revive(JSON.parse(JSON.stringify(ledger)), 2)!;
  revived.attach(() => undefined);
  assert.equal(revived.admit(7), true);
  assert.equal(revived.admit(4), false);
  assert.equal(revived.admit(3), true);
});
