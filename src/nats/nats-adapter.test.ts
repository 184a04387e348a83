import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeSubjectToken } from "./nats-adapter.js";

test("namespace names become single NATS subject tokens", () => {
  const rows: [string, string][] = [
    ["/", "/"],
    ["/admin", "/admin"],
    ["/a.b", "/a%2Eb"],
    ["/*>", "/%2A%3E"],
    ["/a b", "/a%20b"],
    ["/100%", "/100%25"],
    ["/é", "/é"],
  ];
  for (const [nsp, token] of rows) assert.equal(encodeSubjectToken(nsp), token, nsp);
});
