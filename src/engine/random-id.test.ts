import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { randomId } from "./random-id.js";

describe("randomId", () => {
  it("makes 20-character base64url ids that do not repeat across pool refills", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = randomId();
      assert.match(id, /^[A-Za-z0-9_-]{20}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 2000);
  });
});
