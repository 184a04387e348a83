import assert from "node:assert/strict";
import { test } from "node:test";
import { AckLedger } from "./ack-ledger.js";

test("a ledger survives a JSON round trip with its answered ids, not its pending ones", () => {
  const ledger = new AckLedger(10);
  const sent: [number, unknown[]][] = [];
  ledger.attach((id, response) => sent.push([id, response]));
  assert.equal(ledger.admit(1), true);
  assert.equal(ledger.admit(2), true);
  ledger.complete(1, ["one"]);
  const revived = AckLedger.revive(JSON.parse(JSON.stringify(ledger)), 10)!;
  revived.attach((id, response) => sent.push([id, response]));
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
  ledger.attach((id) => sent.push(id));
  for (const id of [1, 2, 3]) assert.equal(ledger.admit(id), true);
  assert.equal(ledger.size, 2);
  ledger.complete(1, []); // pushed out while pending
  assert.deepEqual(sent, [1]);
  assert.equal(ledger.admit(1), true);
});
