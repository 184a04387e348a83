import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import notepack from "notepack.io";
import { ErrorCode } from "../errors.js";
import { decodeMsgpack, encodeMsgpack } from "./msgpack.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const bytes = (text: string): Uint8Array =>
  new Uint8Array(Buffer.from(text.replace(/ /g, ""), "hex"));

/** Golden rows: `value` encodes to `wire`; `wire` decodes to `decoded` (default `value`). */
const golden: { name: string; value: unknown; wire: string; decoded?: unknown }[] = [
  { name: "positive fixint", value: 5, wire: "05" },
  { name: "largest fixint", value: 127, wire: "7f" },
  { name: "uint 8", value: 200, wire: "cc c8" },
  { name: "uint 16", value: 0x1234, wire: "cd 1234" },
  { name: "uint 32", value: 0x12345678, wire: "ce 12345678" },
  { name: "uint 64", value: 2 ** 40 + 3, wire: "cf 00000100 00000003" },
  { name: "negative fixint", value: -1, wire: "ff" },
  { name: "smallest negative fixint", value: -32, wire: "e0" },
  { name: "int 8", value: -33, wire: "d0 df" },
  { name: "int 16", value: -300, wire: "d1 fed4" },
  { name: "int 32", value: -70000, wire: "d2 fffeee90" },
  { name: "int 64", value: -(2 ** 40), wire: "d3 ffffff00 00000000" },
  { name: "uint 64 up to 2^64", value: 2 ** 63, wire: "cf 80000000 00000000" },
  { name: "past 64 bits is a float", value: 2 ** 64, wire: "cb 43f0000000000000" },
  { name: "negative zero is 0", value: -0, wire: "00", decoded: 0 },
  { name: "float 64", value: 1.5, wire: "cb 3ff8000000000000" },
  { name: "NaN", value: Number.NaN, wire: "cb 7ff8000000000000" },
  { name: "nil", value: null, wire: "c0" },
  { name: "undefined is nil", value: undefined, wire: "c0", decoded: null },
  { name: "false", value: false, wire: "c2" },
  { name: "true", value: true, wire: "c3" },
  { name: "fixstr", value: "hi", wire: "a2 6869" },
  { name: "utf-8 string", value: "é", wire: "a2 c3a9" },
  { name: "str 8", value: "x".repeat(32), wire: `d9 20 ${"78".repeat(32)}` },
  { name: "str 16", value: "x".repeat(256), wire: `da 0100 ${"78".repeat(256)}` },
  { name: "fixarray", value: [1, "a"], wire: "92 01 a161" },
  { name: "array 16", value: new Array(16).fill(0), wire: `dc 0010 ${"00".repeat(16)}` },
  { name: "fixmap", value: { a: 1 }, wire: "81 a161 01" },
  {
    name: "map skips undefined and functions",
    value: { a: 1, b: undefined, c: () => 0 },
    wire: "81 a161 01",
    decoded: { a: 1 },
  },
  { name: "bin 8", value: Buffer.from([1, 2, 3]), wire: "c4 03 010203" },
  {
    name: "Uint8Array is bin",
    value: new Uint8Array([9]),
    wire: "c4 01 09",
    decoded: Buffer.from([9]),
  },
  {
    name: "ArrayBuffer is bin",
    value: new Uint8Array([7, 8]).buffer,
    wire: "c4 02 0708",
    decoded: Buffer.from([7, 8]),
  },
  {
    name: "bin 16",
    value: Buffer.alloc(256, 1),
    wire: `c5 0100 ${"01".repeat(256)}`,
  },
  {
    name: "a Uint16Array is the bytes it covers",
    value: new Uint16Array([0x0101, 0x0202]),
    wire: "c4 04 01010202",
    decoded: Buffer.from([1, 1, 2, 2]),
  },
  { name: "an invalid Date is nil", value: new Date(Number.NaN), wire: "c0", decoded: null },
  { name: "timestamp 32", value: new Date(1_700_000_000_000), wire: "d6 ff 6553f100" },
  { name: "timestamp 64", value: new Date(1_700_000_000_123), wire: "d7 ff 1d535300 6553f100" },
  {
    name: "timestamp 96 (before 1970)",
    value: new Date(-1000),
    wire: "c7 0c ff 00000000 ffffffff ffffffff",
  },
  {
    name: "toJSON is used",
    value: { toJSON: () => "x" },
    wire: "a1 78",
    decoded: "x",
  },
];

describe("msgpack golden table", () => {
  for (const row of golden) {
    test(`${row.name}: encodes`, () => {
      assert.equal(hex(encodeMsgpack(row.value)), row.wire.replace(/ /g, ""));
    });
    test(`${row.name}: decodes`, () => {
      const result = decodeMsgpack(bytes(row.wire));
      assert.ok(result.ok, result.ok ? "" : result.error.message);
      assert.deepEqual(result.value, "decoded" in row ? row.decoded : row.value);
    });
  }
});

describe("msgpack decodes notepack's legacy extensions", () => {
  const rows: { name: string; wire: string; value: unknown }[] = [
    { name: "fixext 1 type 0 is undefined", wire: "d4 00 00", value: undefined },
    {
      name: "fixext 8 type 0 is a Date in ms",
      wire: "d7 00 00000000 000003e8",
      value: new Date(1000),
    },
    {
      name: "ext 8 type 0 is an ArrayBuffer",
      wire: "c7 02 00 0102",
      value: new Uint8Array([1, 2]).buffer,
    },
    { name: "other types stay [type, bytes]", wire: "d4 05 aa", value: [5, Buffer.from([0xaa])] },
    { name: "float 32", wire: "ca 3fc00000", value: 1.5 },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = decodeMsgpack(bytes(row.wire));
      assert.ok(result.ok);
      assert.deepEqual(result.value, row.value);
    });
  }
});

describe("msgpack refuses malformed input", () => {
  const rows: { name: string; wire: string; code: string }[] = [
    { name: "empty input", wire: "", code: ErrorCode.INVALID_PAYLOAD },
    { name: "unused prefix 0xc1", wire: "c1", code: ErrorCode.INVALID_PAYLOAD },
    { name: "truncated uint 32", wire: "ce 0102", code: ErrorCode.INVALID_PAYLOAD },
    { name: "string longer than the input", wire: "a5 6869", code: ErrorCode.INVALID_PAYLOAD },
    {
      name: "array 32 claiming 4 billion items",
      wire: "dd ffffffff 00",
      code: ErrorCode.INVALID_PAYLOAD,
    },
    { name: "map with an array key", wire: "81 90 01", code: ErrorCode.INVALID_PAYLOAD },
    { name: "trailing bytes", wire: "01 02", code: ErrorCode.INVALID_PAYLOAD },
    {
      name: "nesting past the limit",
      wire: `${"91".repeat(101)}00`,
      code: ErrorCode.NESTING_TOO_DEEP,
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const result = decodeMsgpack(bytes(row.wire));
      assert.equal(result.ok, false);
      if (!result.ok) assert.equal(result.error.code, row.code);
    });
  }

  test("a __proto__ key is plain data", () => {
    const result = decodeMsgpack(bytes("81 a9 5f5f70726f746f5f5f 81 a161 01"));
    assert.ok(result.ok);
    const value = result.value as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ["__proto__"]);
    assert.equal((value as { a?: unknown }).a, undefined);
  });

  test("a circular value is a programmer error", () => {
    const loop: unknown[] = [];
    loop.push(loop);
    assert.throws(() => encodeMsgpack(loop), TypeError);
    assert.throws(() => encodeMsgpack(Symbol("s")), TypeError);
  });
});

// notepack.io assigns a "__proto__" key to the prototype; ours keeps it as data (tested above)
const key = fc.string().filter((k) => k !== "__proto__");

/** JSON-like values with binaries and dates, as they travel between nodes. */
const payload = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.integer(),
    fc.maxSafeInteger(),
    // -0 and integers past 64 bits are covered by the golden table (0 and float 64 there,
    // where notepack.io writes garbage for the latter)
    fc
      .double()
      .filter((x) => !Number.isInteger(x) || (x < 2 ** 64 && x >= -(2 ** 63)))
      .map((x) => (Object.is(x, -0) ? 0 : x)),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.date({ noInvalidDate: true }),
    fc.array(tie("value"), { maxLength: 20 }),
    fc.dictionary(key, tie("value"), { maxKeys: 20, noNullPrototype: true }),
  ),
})).value;

describe("msgpack properties", () => {
  test("encodes exactly as notepack.io does", () => {
    fc.assert(
      fc.property(payload, (value) => {
        assert.equal(hex(encodeMsgpack(value)), hex(notepack.encode(value) as Buffer));
      }),
      { numRuns: 300 },
    );
  });

  test("decodes what notepack.io encodes as notepack.io does", () => {
    fc.assert(
      fc.property(payload, (value) => {
        const wire = notepack.encode(value) as Buffer;
        const result = decodeMsgpack(wire);
        assert.ok(result.ok);
        assert.deepEqual(result.value, notepack.decode(wire));
      }),
      { numRuns: 300 },
    );
  });

  test("decode(encode(x)) is x", () => {
    fc.assert(
      fc.property(payload, (value) => {
        const result = decodeMsgpack(encodeMsgpack(value));
        assert.ok(result.ok);
        assert.deepEqual(result.value, value);
      }),
      { numRuns: 300 },
    );
  });

  test("arbitrary bytes never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        const result = decodeMsgpack(input);
        assert.equal(typeof result.ok, "boolean");
      }),
      { numRuns: 2000 },
    );
  });
});
