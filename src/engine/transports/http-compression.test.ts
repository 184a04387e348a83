import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gunzipSync, inflateSync } from "node:zlib";
import { compressBody, negotiateEncoding } from "./http-compression.js";

describe("negotiateEncoding", () => {
  const rows: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ["", undefined],
    ["identity", undefined],
    ["gzip", "gzip"],
    ["deflate", "deflate"],
    ["gzip, deflate, br", "gzip"],
    ["deflate, gzip", "gzip"],
    ["gzip;q=0.5, deflate", "deflate"],
    ["gzip;q=0, deflate;q=0", undefined],
    ["*", "gzip"],
    ["*;q=0.1, gzip;q=0", "deflate"],
    ["GZIP ; q=1", "gzip"],
    ["gzip;q=abc", undefined],
  ];
  for (const [header, expected] of rows) {
    it(`picks ${String(expected)} for ${JSON.stringify(header)}`, () => {
      assert.equal(negotiateEncoding(header), expected);
    });
  }
});

describe("compressBody", () => {
  it("round-trips gzip and deflate", async () => {
    const body = Buffer.from("hello ".repeat(100));
    const run = (coding: "gzip" | "deflate") =>
      new Promise<Buffer>((resolve, reject) => {
        compressBody(body, coding, (err, out) => (err ? reject(err) : resolve(out)));
      });
    assert.deepEqual(gunzipSync(await run("gzip")), body);
    assert.deepEqual(inflateSync(await run("deflate")), body);
  });
});
