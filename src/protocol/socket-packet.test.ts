import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { ErrorCode, type ErrorCodeValue } from "../errors.js";
import type { BinaryData } from "./binary.js";
import type { RawData } from "./engine-packet.js";
import {
  encodedPacketData,
  encodeSocketPacket,
  hasBinary,
  type SocketDecoderLimits,
  type SocketPacket,
  SocketPacketDecoder,
  SocketPacketType as T,
} from "./socket-packet.js";

/** Feeds chunks in order; returns the packet the last one completes, failing on anything else. */
function decodeChunks(
  chunks: readonly (RawData | BinaryData)[],
  limits?: SocketDecoderLimits,
): SocketPacket {
  const decoder = new SocketPacketDecoder(limits);
  let packet: SocketPacket | undefined;
  chunks.forEach((chunk, i) => {
    const result = decoder.add(chunk);
    if (!result.ok)
      assert.fail(`chunk ${i} rejected: ${result.error.code} ${result.error.message}`);
    if (i < chunks.length - 1) assert.equal(result.value, undefined, `chunk ${i} completed early`);
    packet = result.value;
  });
  assert.ok(packet, "last chunk did not complete a packet");
  return packet;
}

/** Feeds chunks until one is rejected and returns its error code (or "accepted"). */
function firstErrorCode(
  chunks: readonly unknown[],
  limits?: SocketDecoderLimits,
): ErrorCodeValue | "accepted" {
  const decoder = new SocketPacketDecoder(limits);
  for (const chunk of chunks) {
    const result = decoder.add(chunk as RawData);
    if (!result.ok) return result.error.code;
  }
  return "accepted";
}

const bytes = (...values: number[]) => new Uint8Array(values);
const ph = (num: number) => `{"_placeholder":true,"num":${num}}`;

interface GoldenRow {
  readonly name: string;
  readonly packet: SocketPacket;
  readonly wire: readonly RawData[];
}

const b1234 = bytes(1, 2, 3, 4);
const b12 = bytes(1, 2);
const b34 = bytes(3, 4);
const bFile = bytes(0xff, 0);
const bPart = bytes(7);

// socket.io-protocol v5 §packet-encoding examples first, then our own. Decoding hands a
// BINARY_EVENT/BINARY_ACK out as EVENT/ACK, as socket.io-parser does, so rows use those.
const golden: readonly GoldenRow[] = [
  { name: "CONNECT main namespace", packet: { type: T.CONNECT, nsp: "/" }, wire: ["0"] },
  {
    name: "CONNECT custom namespace with sid",
    packet: { type: T.CONNECT, nsp: "/admin", data: { sid: "oSO0OpakMV_3jnilAAAA" } },
    wire: ['0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}'],
  },
  {
    name: "CONNECT with auth payload",
    packet: { type: T.CONNECT, nsp: "/admin", data: { token: "123" } },
    wire: ['0/admin,{"token":"123"}'],
  },
  {
    name: "CONNECT_ERROR object",
    packet: { type: T.CONNECT_ERROR, nsp: "/", data: { message: "Not authorized" } },
    wire: ['4{"message":"Not authorized"}'],
  },
  {
    name: "CONNECT_ERROR object with data, custom namespace",
    packet: {
      type: T.CONNECT_ERROR,
      nsp: "/random",
      data: { message: "Invalid namespace", data: { code: 4 } },
    },
    wire: ['4/random,{"message":"Invalid namespace","data":{"code":4}}'],
  },
  {
    name: "CONNECT_ERROR string (v2 clients)",
    packet: { type: T.CONNECT_ERROR, nsp: "/", data: "Not authorized" },
    wire: ['4"Not authorized"'],
  },
  {
    name: "EVENT main namespace",
    packet: { type: T.EVENT, nsp: "/", data: ["foo"] },
    wire: ['2["foo"]'],
  },
  {
    name: "EVENT custom namespace",
    packet: { type: T.EVENT, nsp: "/admin", data: ["bar"] },
    wire: ['2/admin,["bar"]'],
  },
  {
    name: "EVENT with binary",
    packet: { type: T.EVENT, nsp: "/", data: ["baz", b1234] },
    wire: [`51-["baz",${ph(0)}]`, b1234],
  },
  {
    name: "EVENT with two attachments, custom namespace",
    packet: { type: T.EVENT, nsp: "/admin", data: ["baz", b12, b34] },
    wire: [`52-/admin,["baz",${ph(0)},${ph(1)}]`, b12, b34],
  },
  {
    name: "EVENT asking for an ack",
    packet: { type: T.EVENT, nsp: "/", data: ["foo"], id: 12 },
    wire: ['212["foo"]'],
  },
  {
    name: "ACK custom namespace",
    packet: { type: T.ACK, nsp: "/admin", data: ["bar"], id: 13 },
    wire: ['3/admin,13["bar"]'],
  },
  { name: "ACK empty", packet: { type: T.ACK, nsp: "/", data: [], id: 12 }, wire: ["312[]"] },
  {
    name: "ACK with binary",
    packet: { type: T.ACK, nsp: "/", data: ["bar", b1234], id: 15 },
    wire: [`61-15["bar",${ph(0)}]`, b1234],
  },
  { name: "DISCONNECT main namespace", packet: { type: T.DISCONNECT, nsp: "/" }, wire: ["1"] },
  {
    name: "DISCONNECT custom namespace",
    packet: { type: T.DISCONNECT, nsp: "/admin" },
    wire: ["1/admin,"],
  },
  {
    name: "EVENT ack id 0",
    packet: { type: T.EVENT, nsp: "/", data: ["a"], id: 0 },
    wire: ['20["a"]'],
  },
  {
    name: "EVENT with mixed arguments and unicode",
    packet: {
      type: T.EVENT,
      nsp: "/",
      data: ["chat", "héllo ✓ \u2028", 1.5, true, null, { a: [1, 2] }],
    },
    wire: ['2["chat","héllo ✓ \u2028",1.5,true,null,{"a":[1,2]}]'],
  },
  {
    name: "binary nested in objects and arrays",
    packet: {
      type: T.EVENT,
      nsp: "/",
      data: ["upload", { file: bFile, meta: { parts: [bPart] } }],
    },
    wire: [`52-["upload",{"file":${ph(0)},"meta":{"parts":[${ph(1)}]}}]`, bFile, bPart],
  },
  {
    name: "binary EVENT with namespace and ack id",
    packet: { type: T.EVENT, nsp: "/chat", data: ["x", bPart], id: 7 },
    wire: [`51-/chat,7["x",${ph(0)}]`, bPart],
  },
  {
    name: "empty binary attachment",
    packet: { type: T.ACK, nsp: "/", data: [bytes()], id: 1 },
    wire: [`61-1[${ph(0)}]`, bytes()],
  },
];

describe("socket packet golden table (socket.io-protocol v5)", () => {
  for (const row of golden) {
    it(`encodes ${row.name}`, () => {
      assert.deepEqual(encodeSocketPacket(row.packet), row.wire);
    });
    it(`decodes ${row.name}`, () => {
      assert.deepEqual(decodeChunks(row.wire), row.packet);
    });
  }
});

describe("socket packet decoding of forms our encoder does not produce", () => {
  const rows: readonly { name: string; wire: readonly RawData[]; packet: SocketPacket }[] = [
    // socket.io-protocol test-suite sends namespaces without the trailing comma.
    {
      name: "CONNECT namespace without comma",
      wire: ["0/custom"],
      packet: { type: 0, nsp: "/custom" },
    },
    {
      name: "DISCONNECT namespace without comma",
      wire: ["1/custom"],
      packet: { type: 1, nsp: "/custom" },
    },
    {
      name: "ack id with leading zero",
      wire: ['2012["a"]'],
      packet: { type: 2, nsp: "/", data: ["a"], id: 12 },
    },
    {
      name: "namespace '/' written out",
      wire: ['2/,["a"]'],
      packet: { type: 2, nsp: "/", data: ["a"] },
    },
  ];
  for (const row of rows) {
    it(row.name, () => assert.deepEqual(decodeChunks(row.wire), row.packet));
  }
});

describe("encodeSocketPacket", () => {
  it("passes a Node Buffer attachment through as the same object", () => {
    const buffer = Buffer.from([1, 2]);
    const wire = encodeSocketPacket({ type: T.EVENT, nsp: "/", data: ["b", buffer] });
    assert.equal(wire[1], buffer);
  });

  it("sends an ArrayBuffer and other views as Uint8Array views without copying", () => {
    const arrayBuffer = new Uint8Array([1, 2, 3, 4]).buffer;
    const floats = new Float32Array([1.5]);
    const wire = encodeSocketPacket({ type: T.EVENT, nsp: "/", data: ["b", arrayBuffer, floats] });
    assert.equal(wire[0], `52-["b",${ph(0)},${ph(1)}]`);
    const [first, second] = [wire[1], wire[2]];
    assert.ok(first instanceof Uint8Array && second instanceof Uint8Array);
    assert.equal(first.buffer, arrayBuffer);
    assert.equal(second.buffer, floats.buffer);
    assert.equal(second.byteLength, 4);
  });

  it("sends BINARY_EVENT/BINARY_ACK without binary as EVENT/ACK", () => {
    assert.deepEqual(encodeSocketPacket({ type: T.BINARY_EVENT, nsp: "/", data: ["a"] }), [
      '2["a"]',
    ]);
    assert.deepEqual(encodeSocketPacket({ type: T.BINARY_ACK, nsp: "/", data: [], id: 3 }), [
      "33[]",
    ]);
  });

  it("serialises through toJSON like JSON.stringify, finding binaries it returns", () => {
    const inner = bytes(5);
    const viaToJSON = { toJSON: () => ({ raw: inner }) };
    const date = new Date(0);
    const wire = encodeSocketPacket({ type: T.EVENT, nsp: "/", data: ["t", viaToJSON, date] });
    assert.deepEqual(wire, [`51-["t",{"raw":${ph(0)}},"1970-01-01T00:00:00.000Z"]`, inner]);
  });

  it("treats an empty namespace as '/' and omits null data, as socket.io does", () => {
    assert.deepEqual(encodeSocketPacket({ type: T.CONNECT, nsp: "", data: null }), ["0"]);
  });

  it("does not modify the packet data", () => {
    const data = ["a", { b: bytes(1) }];
    encodeSocketPacket({ type: T.EVENT, nsp: "/", data });
    assert.deepEqual(data, ["a", { b: bytes(1) }]);
  });

  it("calls JSON.stringify exactly once for a packet without binary", (t) => {
    const stringify = t.mock.method(JSON, "stringify");
    encodeSocketPacket({ type: T.EVENT, nsp: "/", data: ["a", { b: [1, 2, { c: "d" }] }] });
    assert.equal(stringify.mock.callCount(), 1);
  });

  const programmerErrors: readonly { name: string; packet: SocketPacket }[] = [
    {
      name: "namespace without leading slash",
      packet: { type: T.EVENT, nsp: "admin", data: ["a"] },
    },
    { name: "namespace with a comma", packet: { type: T.EVENT, nsp: "/a,b", data: ["a"] } },
    { name: "negative ack id", packet: { type: T.EVENT, nsp: "/", data: ["a"], id: -1 } },
    { name: "fractional ack id", packet: { type: T.EVENT, nsp: "/", data: ["a"], id: 1.5 } },
    {
      name: "ack id past MAX_SAFE_INTEGER",
      packet: { type: T.ACK, nsp: "/", data: [], id: 2 ** 53 },
    },
    { name: "Blob attachment", packet: { type: T.EVENT, nsp: "/", data: ["a", new Blob(["x"])] } },
  ];
  for (const row of programmerErrors) {
    it(`throws a TypeError for ${row.name}`, () => {
      assert.throws(() => encodeSocketPacket(row.packet), TypeError);
    });
  }
});

describe("encodedPacketData", () => {
  it("gives back the data of what encodeSocketPacket wrote as one string", () => {
    const nested = (depth: number): unknown => (depth === 0 ? 1 : [nested(depth - 1)]);
    const cases: SocketPacket[] = [
      { type: T.EVENT, nsp: "/", data: ["ev", 1, "a,b"] },
      { type: T.EVENT, nsp: "/chat", data: ["ev", { s: "2/x,[" }] },
      { type: T.ACK, nsp: "/", id: 12, data: ["ok"] },
      { type: T.ACK, nsp: "/a[b", id: 7, data: [null, 3] },
      { type: T.ACK, nsp: "/", id: 0, data: [nested(40)] }, // past decoder limits
    ];
    for (const packet of cases) {
      const [text, ...rest] = encodeSocketPacket(packet);
      assert.equal(rest.length, 0);
      assert.deepEqual(encodedPacketData(text as string), packet.data);
    }
  });
});

describe("hasBinary", () => {
  const rows: readonly { name: string; value: unknown; expected: boolean }[] = [
    { name: "undefined", value: undefined, expected: false },
    { name: "string", value: "bytes", expected: false },
    { name: "plain JSON", value: ["a", { b: [1, null, { c: true }] }], expected: false },
    { name: "Uint8Array", value: bytes(1), expected: true },
    { name: "Node Buffer", value: Buffer.from("x"), expected: true },
    { name: "ArrayBuffer", value: new ArrayBuffer(2), expected: true },
    { name: "DataView", value: new DataView(new ArrayBuffer(2)), expected: true },
    { name: "Blob", value: new Blob(["x"]), expected: true },
    {
      name: "deeply nested",
      value: [{ a: [[{ b: { c: [new Int16Array(1)] } }]] }],
      expected: true,
    },
    { name: "Date", value: [new Date(0)], expected: false },
    { name: "toJSON returning binary", value: { toJSON: () => [bytes(1)] }, expected: true },
    {
      name: "toJSON hiding binary",
      value: { raw: bytes(1), toJSON: () => "text" },
      expected: false,
    },
    { name: "inherited binary ignored", value: Object.create({ raw: bytes(1) }), expected: false },
  ];
  for (const row of rows) {
    it(`${row.name} -> ${row.expected}`, () => assert.equal(hasBinary(row.value), row.expected));
  }

  it("stops at the first binary found", () => {
    const getter = mock.fn(() => "never read");
    const trap = Object.defineProperty({}, "later", { get: getter, enumerable: true });
    assert.equal(hasBinary([bytes(1), trap]), true);
    assert.equal(getter.mock.callCount(), 0);
  });
});

describe("SocketPacketDecoder", () => {
  it("puts back the very chunk objects received: Buffer, Uint8Array and ArrayBuffer", () => {
    const buffer = Buffer.from([1]);
    const array = bytes(2);
    const arrayBuffer = new ArrayBuffer(3);
    const packet = decodeChunks([
      `53-["x",${ph(2)},${ph(0)},${ph(1)}]`,
      buffer,
      array,
      arrayBuffer,
    ]);
    const data = packet.data as unknown[];
    assert.equal(data[1], arrayBuffer);
    assert.equal(data[2], buffer);
    assert.equal(data[3], array);
  });

  it("puts a placeholder under the key __proto__ back as an own property", () => {
    const packet = decodeChunks([`51-["x",{"__proto__":${ph(0)}}]`, bPart]);
    const arg = (packet.data as unknown[])[1] as object;
    assert.equal(Object.getPrototypeOf(arg), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(arg, "__proto__")?.value, bPart);
  });

  it("leaves placeholder-shaped objects alone in packets without attachments", () => {
    const packet = decodeChunks([`2["x",${ph(5)}]`]);
    assert.deepEqual(packet.data, ["x", { _placeholder: true, num: 5 }]);
  });

  it("accepts nesting up to maxDepth, and counts no brackets inside strings", () => {
    const nested = `${"[".repeat(31)}${"]".repeat(31)}`;
    assert.equal(firstErrorCode([`2["a",${nested}]`]), "accepted");
    assert.equal(firstErrorCode([`2["${"[{".repeat(100)}\\"[["]`]), "accepted");
    assert.equal(firstErrorCode(['2["a",[[1]]]'], { maxDepth: 3 }), "accepted");
    assert.equal(firstErrorCode(['2["a",[[[1]]]]'], { maxDepth: 3 }), ErrorCode.NESTING_TOO_DEEP);
  });

  it("reset() discards a partially received binary packet", () => {
    const decoder = new SocketPacketDecoder();
    assert.deepEqual(decoder.add(`51-["x",${ph(0)}]`), { ok: true, value: undefined });
    decoder.reset();
    assert.deepEqual(decoder.add('2["y"]'), {
      ok: true,
      value: { type: 2, nsp: "/", data: ["y"] },
    });
  });

  it("is reset after an error and decodes the next packet from scratch", () => {
    const decoder = new SocketPacketDecoder();
    decoder.add(`52-["x",${ph(0)},${ph(1)}]`);
    const error = decoder.add('2["too early"]');
    assert.equal(error.ok ? "accepted" : error.error.code, ErrorCode.EXPECTED_ATTACHMENT);
    assert.equal(error.ok ? undefined : error.error.name, "ProtocolError");
    assert.deepEqual(decoder.add('2["y"]'), {
      ok: true,
      value: { type: 2, nsp: "/", data: ["y"] },
    });
  });
});

const deep = (n: number) => `2["a",${"[".repeat(n)}${"]".repeat(n)}]`;

// Each row: chunks fed in order -> the code of the first rejection.
const malformed: readonly {
  name: string;
  chunks: readonly unknown[];
  code: ErrorCodeValue;
  limits?: SocketDecoderLimits;
}[] = [
  { name: "empty text", chunks: [""], code: ErrorCode.INVALID_PACKET },
  { name: "unknown type 7", chunks: ['7["a"]'], code: ErrorCode.INVALID_PACKET },
  { name: "non-digit type", chunks: ["abc"], code: ErrorCode.INVALID_PACKET },
  { name: "binary without count", chunks: ['5-["a"]'], code: ErrorCode.INVALID_PACKET },
  { name: "binary count without dash", chunks: ['51["a"]'], code: ErrorCode.INVALID_PACKET },
  { name: "binary count not digits", chunks: ['5a-["a"]'], code: ErrorCode.INVALID_PACKET },
  { name: "binary with zero attachments", chunks: ['50-["a"]'], code: ErrorCode.INVALID_PACKET },
  { name: "chunk neither text nor binary", chunks: [42], code: ErrorCode.INVALID_PACKET },
  {
    name: "11 attachments (default limit 10)",
    chunks: ['611-1["a"]'],
    code: ErrorCode.TOO_MANY_ATTACHMENTS,
  },
  {
    name: "huge attachment count",
    chunks: [`5${"9".repeat(30)}-["a"]`],
    code: ErrorCode.TOO_MANY_ATTACHMENTS,
  },
  {
    name: "over a custom attachment limit",
    chunks: ['53-["a"]'],
    code: ErrorCode.TOO_MANY_ATTACHMENTS,
    limits: { maxAttachments: 2 },
  },
  { name: "namespace without slash", chunks: ['2admin,["a"]'], code: ErrorCode.INVALID_NAMESPACE },
  {
    name: "ack id with letters (protocol test-suite)",
    chunks: ['2abc["message-with-ack",1]'],
    code: ErrorCode.INVALID_ACK_ID,
  },
  { name: "fractional ack id", chunks: ['21.5["a"]'], code: ErrorCode.INVALID_ACK_ID },
  { name: "negative ack id", chunks: ['2-1["a"]'], code: ErrorCode.INVALID_ACK_ID },
  {
    name: "ack id of 17 digits",
    chunks: [`2${"9".repeat(17)}["a"]`],
    code: ErrorCode.INVALID_ACK_ID,
  },
  {
    name: "ack id past MAX_SAFE_INTEGER",
    chunks: ['29007199254740992["a"]'],
    code: ErrorCode.INVALID_ACK_ID,
  },
  { name: "ACK without ack id", chunks: ['3["a"]'], code: ErrorCode.INVALID_ACK_ID },
  { name: "truncated JSON", chunks: ['2["a"'], code: ErrorCode.INVALID_JSON },
  { name: "JSON with trailing garbage", chunks: ['2["a"]x'], code: ErrorCode.INVALID_JSON },
  { name: "broken JSON object", chunks: ['0{"a":}'], code: ErrorCode.INVALID_JSON },
  { name: "CONNECT with array data", chunks: ["0[1]"], code: ErrorCode.INVALID_PAYLOAD },
  { name: "CONNECT with string data", chunks: ['0"token"'], code: ErrorCode.INVALID_PAYLOAD },
  { name: "DISCONNECT with data", chunks: ["1{}"], code: ErrorCode.INVALID_PAYLOAD },
  {
    name: "EVENT with object data (protocol test-suite)",
    chunks: ["2{}"],
    code: ErrorCode.INVALID_PAYLOAD,
  },
  { name: "EVENT without data", chunks: ["2"], code: ErrorCode.INVALID_PAYLOAD },
  { name: "EVENT with empty array", chunks: ["2[]"], code: ErrorCode.INVALID_PAYLOAD },
  { name: "EVENT whose name is a number", chunks: ["2[1]"], code: ErrorCode.INVALID_PAYLOAD },
  {
    name: "EVENT with reserved name",
    chunks: ['2["disconnect"]'],
    code: ErrorCode.INVALID_PAYLOAD,
  },
  {
    name: "BINARY_EVENT with object data",
    chunks: [`51-{"a":${ph(0)}}`],
    code: ErrorCode.INVALID_PAYLOAD,
  },
  { name: "ACK with object data", chunks: ["3/a,1{}"], code: ErrorCode.INVALID_PAYLOAD },
  { name: "CONNECT_ERROR without data", chunks: ["4"], code: ErrorCode.INVALID_PAYLOAD },
  { name: "CONNECT_ERROR with array data", chunks: ['4["no"]'], code: ErrorCode.INVALID_PAYLOAD },
  {
    name: "nesting 33 levels deep (default 32)",
    chunks: [deep(32)],
    code: ErrorCode.NESTING_TOO_DEEP,
  },
  { name: "very deep nesting", chunks: [deep(100_000)], code: ErrorCode.NESTING_TOO_DEEP },
  {
    name: "binary without a packet awaiting it",
    chunks: [bytes(1)],
    code: ErrorCode.UNEXPECTED_ATTACHMENT,
  },
  {
    name: "binary after a complete binary packet",
    chunks: [`51-["a",${ph(0)}]`, bytes(1), bytes(2)],
    code: ErrorCode.UNEXPECTED_ATTACHMENT,
  },
  {
    name: "text while awaiting an attachment",
    chunks: [`51-["a",${ph(0)}]`, '2["b"]'],
    code: ErrorCode.EXPECTED_ATTACHMENT,
  },
  {
    name: "placeholder num out of range",
    chunks: [`51-["a",${ph(1)}]`, bytes(1)],
    code: ErrorCode.INVALID_PLACEHOLDER,
  },
  {
    name: "negative placeholder num",
    chunks: [`51-["a",${ph(-1)}]`, bytes(1)],
    code: ErrorCode.INVALID_PLACEHOLDER,
  },
  {
    name: "fractional placeholder num",
    chunks: [`51-["a",${ph(0.5)}]`, bytes(1)],
    code: ErrorCode.INVALID_PLACEHOLDER,
  },
  {
    name: "string placeholder num",
    chunks: ['51-["a",{"_placeholder":true,"num":"0"}]', bytes(1)],
    code: ErrorCode.INVALID_PLACEHOLDER,
  },
  {
    name: "placeholder without num",
    chunks: ['51-["a",{"_placeholder":true}]', bytes(1)],
    code: ErrorCode.INVALID_PLACEHOLDER,
  },
];

describe("socket packet malformed input", () => {
  for (const row of malformed) {
    it(`${row.name} -> ${row.code}`, () => {
      assert.equal(firstErrorCode(row.chunks, row.limits), row.code);
    });
  }
});
