import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ProtocolError } from "../errors.js";
import type { RawData } from "../protocol/engine-packet.js";
import * as reference from "../protocol/socket-packet.js";
import { type SocketPacket, SocketPacketType as T } from "../protocol/socket-packet.js";
import { encodeSocketPacket, SocketPacketDecoder } from "./codec.js";

const bytes = (...v: number[]) => new Uint8Array(v);
const ph = (num: number) => `{"_placeholder":true,"num":${num}}`;

/** Decodes a sequence of messages with a decoder, returning the packet or the error code. */
function decodeWith(
  decoder: { add(chunk: RawData): { ok: boolean; value?: unknown; error?: { code: string } } },
  wire: readonly RawData[],
): unknown {
  let out: unknown;
  for (const chunk of wire) {
    const r = decoder.add(chunk);
    if (!r.ok) return r.error!.code;
    out = r.value;
  }
  return out;
}

/** The Engine.IO messages of a Socket.IO packet's wire form, as the client encoder gives them. */
const messages = (wire: readonly RawData[]) => [`4${wire[0]}`, ...wire.slice(1)];

/** The client decoder, answering as the protocol decoder does (a `Result`). */
const ours = () => {
  const decoder = new SocketPacketDecoder();
  return {
    add(chunk: RawData) {
      const r = decoder.add(chunk);
      return r instanceof ProtocolError ? { ok: false, error: r } : { ok: true, value: r };
    },
  };
};

// Rows: packet as the client sends or receives it, and its wire form (socket.io-protocol v5).
const golden: { name: string; packet: SocketPacket; wire: RawData[] }[] = [
  { name: "CONNECT /", packet: { type: T.CONNECT, nsp: "/" }, wire: ["0"] },
  {
    name: "CONNECT with auth",
    packet: { type: T.CONNECT, nsp: "/admin", data: { token: "123" } },
    wire: ['0/admin,{"token":"123"}'],
  },
  { name: "DISCONNECT /admin", packet: { type: T.DISCONNECT, nsp: "/admin" }, wire: ["1/admin,"] },
  {
    name: "EVENT",
    packet: { type: T.EVENT, nsp: "/", data: ["hello", 1] },
    wire: ['2["hello",1]'],
  },
  {
    // JSON leaves U+2028 as it is: the header must not stop at a line terminator.
    name: "EVENT with a line separator",
    packet: { type: T.EVENT, nsp: "/", data: ["a\u2028b"] },
    wire: ['2["a\u2028b"]'],
  },
  {
    name: "EVENT with ack id in a namespace",
    packet: { type: T.EVENT, nsp: "/admin", id: 456, data: ["project:delete", 123] },
    wire: ['2/admin,456["project:delete",123]'],
  },
  {
    name: "ACK",
    packet: { type: T.ACK, nsp: "/admin", id: 456, data: [] },
    wire: ["3/admin,456[]"],
  },
  {
    name: "CONNECT_ERROR",
    packet: { type: T.CONNECT_ERROR, nsp: "/", data: { message: "Not authorized" } },
    wire: ['4{"message":"Not authorized"}'],
  },
  {
    name: "EVENT with binary",
    packet: { type: T.EVENT, nsp: "/", data: ["hello", bytes(1, 2, 3)] },
    wire: [`51-["hello",${ph(0)}]`, bytes(1, 2, 3)],
  },
  {
    name: "ACK with nested binaries",
    packet: { type: T.ACK, nsp: "/admin", id: 456, data: [{ a: bytes(1) }, [bytes(2)]] },
    wire: [`62-/admin,456[{"a":${ph(0)}},[${ph(1)}]]`, bytes(1), bytes(2)],
  },
];

describe("client codec (golden, both ways)", () => {
  for (const row of golden) {
    it(row.name, () => {
      if (row.packet.type !== T.CONNECT_ERROR) {
        assert.deepEqual(encodeSocketPacket(row.packet), messages(row.wire));
        assert.deepEqual(
          encodeSocketPacket(row.packet),
          messages(reference.encodeSocketPacket(row.packet)),
        );
      }
      assert.deepEqual(decodeWith(ours(), row.wire), row.packet);
    });
  }

  it("encodes ArrayBuffer, typed arrays and Buffers as attachments", () => {
    const ab = bytes(1, 2).buffer;
    const wire = encodeSocketPacket({
      type: T.EVENT,
      nsp: "/",
      data: ["b", ab, new Uint16Array([258]), Buffer.from([9])],
    });
    assert.deepEqual(wire, [
      `453-["b",${ph(0)},${ph(1)},${ph(2)}]`,
      bytes(1, 2),
      bytes(2, 1),
      bytes(9),
    ]);
  });

  it("never calls a Buffer's toJSON; keeps toJSON and keys of the rest as JSON would", () => {
    // Buffer#toJSON turns every byte into an array element: for a 1 MB Buffer, most of an
    // emit's time. Nothing here may call it.
    const buf = Buffer.from([1, 2, 3]);
    buf.toJSON = () => {
      throw new Error("Buffer#toJSON called");
    };
    const own = JSON.parse('{"__proto__":{"bin":1}}') as Record<string, unknown>;
    own.bin = buf;
    const wire = encodeSocketPacket({
      type: T.EVENT,
      nsp: "/",
      data: ["up", buf, { at: new Date(0), nested: [buf] }, own],
    });
    assert.deepEqual(wire, [
      `453-["up",${ph(0)},{"at":"1970-01-01T00:00:00.000Z","nested":[${ph(1)}]},` +
        `{"__proto__":{"bin":1},"bin":${ph(2)}}]`,
      bytes(1, 2, 3),
      bytes(1, 2, 3),
      bytes(1, 2, 3),
    ]);
  });

  const malformed: [string, RawData[]][] = [
    ["empty", [""]],
    ["unknown type", ["9"]],
    ["bad JSON", ["2[1"]],
    ["EVENT without array", ['2{"a":1}']],
    ["reserved event name", ['2["disconnect","spoofed"]']],
    ["binary type without count", ['5["a"]']],
    ["count on a plain type", ['21-["a"]']],
    ["attachment while idle", [bytes(1)]],
    ["text while awaiting an attachment", [`51-["a",${ph(0)}]`, '2["b"]']],
    ["placeholder out of range", [`51-["a",${ph(3)}]`, bytes(1)]],
  ];
  for (const [name, wire] of malformed) {
    it(`rejects ${name}`, () => {
      assert.equal(decodeWith(ours(), wire), "SB_ERR_INVALID_PACKET");
    });
  }
});

// Valid client-side packets: CONNECT/DISCONNECT/EVENT/ACK with JSON and binary data.
const binary = fc.uint8Array({ maxLength: 8 });
const value = fc.oneof(fc.jsonValue({ maxDepth: 3 }), binary, fc.dictionary(fc.string(), binary));
const nsp = fc.constantFrom("/", "/admin", "/a-b_c");
const id = fc.option(fc.nat(), { nil: undefined });
const withId = (p: SocketPacket, n: number | undefined) => (n === undefined ? p : { ...p, id: n });
const packet: fc.Arbitrary<SocketPacket> = fc.oneof(
  fc.record({ type: fc.constant(T.CONNECT), nsp }),
  fc.tuple(nsp, fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }))).map(([n, data]) => ({
    type: T.CONNECT,
    nsp: n,
    data,
  })),
  fc.record({ type: fc.constant(T.DISCONNECT), nsp }),
  fc
    .tuple(nsp, id, fc.string(), fc.array(value, { maxLength: 4 }))
    .map(([n, i, ev, args]) => withId({ type: T.EVENT, nsp: n, data: [`e${ev}`, ...args] }, i)),
  fc.tuple(nsp, fc.nat(), fc.array(value, { maxLength: 4 })).map(([n, i, args]) => ({
    type: T.ACK,
    nsp: n,
    id: i,
    data: args,
  })),
);

describe("client codec against the protocol codec (properties)", () => {
  it("encodes exactly as the protocol encoder", () => {
    fc.assert(
      fc.property(packet, (p) => {
        assert.deepEqual(encodeSocketPacket(p), messages(reference.encodeSocketPacket(p)));
      }),
    );
  });

  it("decodes what the protocol decoder decodes, to the same packet", () => {
    fc.assert(
      fc.property(packet, (p) => {
        const wire = reference.encodeSocketPacket(p);
        const got = decodeWith(ours(), wire);
        // The client sets no attachment limit: the server it chose is trusted with that.
        const ref = new reference.SocketPacketDecoder({ maxAttachments: 1000 });
        assert.deepEqual(got, decodeWith(ref, wire));
      }),
    );
  });

  it("never throws on arbitrary input", () => {
    const chunk = fc.oneof(fc.string(), fc.uint8Array({ maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 4 }), (wire) => {
        const decoder = new SocketPacketDecoder();
        for (const c of wire) {
          const r = decoder.add(c);
          assert.ok(r === undefined || r instanceof ProtocolError || typeof r.type === "number");
        }
      }),
    );
  });
});
