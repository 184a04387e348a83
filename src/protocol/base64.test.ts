import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ErrorCode } from "../errors.js";
import {
  decodeBase64,
  decodeBase64Portable,
  encodeBase64,
  encodeBase64Portable,
} from "./base64.js";

const RUNS = { numRuns: 300 };

function decodedBytes(text: string, start?: number): Uint8Array {
  const result = decodeBase64(text, start);
  if (!result.ok) assert.fail(`rejected ${JSON.stringify(text)}: ${result.error.message}`);
  return result.value;
}

// RFC 4648 §10 test vectors.
const vectors: readonly { bytes: string; text: string }[] = [
  { bytes: "", text: "" },
  { bytes: "f", text: "Zg==" },
  { bytes: "fo", text: "Zm8=" },
  { bytes: "foo", text: "Zm9v" },
  { bytes: "foob", text: "Zm9vYg==" },
  { bytes: "fooba", text: "Zm9vYmE=" },
  { bytes: "foobar", text: "Zm9vYmFy" },
];

describe("base64 golden table (RFC 4648 §10)", () => {
  for (const row of vectors) {
    const bytes = new TextEncoder().encode(row.bytes);
    it(`encodes "${row.bytes}"`, () => assert.equal(encodeBase64(bytes), row.text));
    it(`decodes "${row.text}"`, () => assert.deepEqual(decodedBytes(row.text), bytes));
  }

  it("decodes from an offset", () => {
    assert.deepEqual(decodedBytes("bZm8=", 1), new TextEncoder().encode("fo"));
  });

  it("rejects a bad character with INVALID_BASE64", () => {
    const result = decodeBase64("Zm 9v");
    assert.equal(result.ok ? "accepted" : result.error.code, ErrorCode.INVALID_BASE64);
  });
});

describe("base64 properties", () => {
  it("decode(encode(bytes)) equals bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        assert.deepEqual(decodedBytes(encodeBase64(bytes)), bytes);
      }),
      RUNS,
    );
  });

  it("agrees with Node's Buffer base64 and base64url", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        assert.equal(encodeBase64(bytes), buffer.toString("base64"));
        assert.deepEqual(decodedBytes(buffer.toString("base64url")), bytes);
      }),
      RUNS,
    );
  });

  it("never throws on arbitrary text, and agrees with Buffer on what it accepts", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_!é";
    const text = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 40 });
    fc.assert(
      fc.property(text, (input) => {
        const result = decodeBase64(input);
        if (result.ok) assert.deepEqual(Buffer.from(result.value), Buffer.from(input, "base64"));
      }),
      RUNS,
    );
  });
});

describe("base64 without Node's Buffer (browsers, workers)", () => {
  for (const row of vectors) {
    const bytes = new TextEncoder().encode(row.bytes);
    it(`encodes and decodes "${row.bytes}"`, () => {
      assert.equal(encodeBase64Portable(bytes), row.text);
      const result = decodeBase64Portable(row.text);
      assert.deepEqual(result.ok ? result.value : result.error.message, bytes);
    });
  }

  it("encodes as Buffer does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        assert.equal(encodeBase64Portable(bytes), Buffer.from(bytes).toString("base64"));
      }),
      RUNS,
    );
  });

  it("decodes exactly what the Buffer path decodes, and refuses the same texts", () => {
    // Node's decoder skips characters outside the alphabet; the Buffer path checks the text
    // first, so both paths must accept and refuse the same texts, with the same message.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_!é";
    const text = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 40 });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 3 }), (input, start) => {
        const from = Math.min(start, input.length);
        const native = decodeBase64(input, from);
        const portable = decodeBase64Portable(input, from);
        assert.deepEqual(
          native.ok ? native.value : native.error.message,
          portable.ok ? portable.value : portable.error.message,
        );
        if (native.ok) assert.equal(native.value.byteOffset, 0, "a Uint8Array of its own");
      }),
      { numRuns: 2000 },
    );
  });
});
