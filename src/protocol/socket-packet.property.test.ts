import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ErrorCode } from "../errors.js";
import type { RawData } from "./engine-packet.js";
import {
  encodeSocketPacket,
  hasBinary,
  MAX_ACK_ID,
  RESERVED_EVENTS,
  type SocketPacket,
  SocketPacketDecoder,
  SocketPacketType as T,
} from "./socket-packet.js";

const RUNS = { numRuns: 300 };
const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** JSON-safe values (-0 excluded: JSON turns it into 0), with Uint8Arrays anywhere if asked. */
function jsonData(withBinary: boolean): fc.Arbitrary<unknown> {
  const leaves: fc.Arbitrary<unknown>[] = [
    fc.string({ unit: "binary", maxLength: 12 }),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)),
    fc.boolean(),
    fc.constant(null),
  ];
  if (withBinary) leaves.push(fc.uint8Array({ maxLength: 8 }));
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: 5 },
      ...leaves,
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie("value"), {
        maxKeys: 4,
        noNullPrototype: true,
      }),
    ),
  })).value;
}

// Only EVENT and ACK carry binary attachments (socket.io-protocol v5).
const dataValue = jsonData(true);
const plainObject = fc.dictionary(fc.string({ maxLength: 6 }), jsonData(false), {
  maxKeys: 4,
  noNullPrototype: true,
});
const nsp = fc.oneof(
  fc.constant("/"),
  fc.string({ unit: "grapheme", maxLength: 10 }).map((s) => `/${s.replaceAll(",", "")}`),
);
const ackId = fc.oneof(fc.nat(1000), fc.constant(MAX_ACK_ID));
const eventName = fc.string({ maxLength: 10 }).filter((s) => !RESERVED_EVENTS.has(s));
const args = fc.array(dataValue, { maxLength: 4 });

function packetOf(
  type: SocketPacket["type"],
  nspValue: string,
  data?: unknown,
  id?: number,
): SocketPacket {
  const packet: { type: SocketPacket["type"]; nsp: string; data?: unknown; id?: number } = {
    type,
    nsp: nspValue,
  };
  if (data !== undefined) packet.data = data;
  if (id !== undefined) packet.id = id;
  return packet;
}

const socketPacket: fc.Arbitrary<SocketPacket> = fc.oneof(
  fc
    .tuple(nsp, fc.option(plainObject, { nil: undefined }))
    .map(([n, d]) => packetOf(T.CONNECT, n, d)),
  nsp.map((n) => packetOf(T.DISCONNECT, n)),
  fc
    .tuple(nsp, eventName, args, fc.option(ackId, { nil: undefined }))
    .map(([n, name, rest, id]) => packetOf(T.EVENT, n, [name, ...rest], id)),
  fc.tuple(nsp, args, ackId).map(([n, d, id]) => packetOf(T.ACK, n, d, id)),
  fc
    .tuple(nsp, fc.oneof(fc.string({ maxLength: 20 }), plainObject))
    .map(([n, d]) => packetOf(T.CONNECT_ERROR, n, d)),
);

function decodeAll(decoder: SocketPacketDecoder, chunks: readonly RawData[]): SocketPacket {
  let packet: SocketPacket | undefined;
  for (const chunk of chunks) {
    const result = decoder.add(chunk);
    if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
    packet = result.value;
  }
  assert.ok(packet, "no packet completed");
  return packet;
}

describe("socket packet properties", () => {
  it("decode(encode(p)) equals p, one decoder across many packets", () => {
    const decoder = new SocketPacketDecoder();
    fc.assert(
      fc.property(socketPacket, (packet) => {
        const wire = encodeSocketPacket(packet);
        assert.equal(wire.length > 1, hasBinary(packet.data));
        assert.deepEqual(decodeAll(decoder, wire), packet);
      }),
      RUNS,
    );
  });

  it("add never throws on arbitrary strings and byte arrays, and fails with known codes", () => {
    const socketish = fc.string({
      unit: fc.constantFrom(...'0123456789-/,[]{}":_placeholdertruenum\\ '.split("")),
      maxLength: 40,
    });
    const chunk = fc.oneof(
      fc.string({ unit: "binary" }),
      socketish,
      fc.uint8Array({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 6 }), (chunks) => {
        const decoder = new SocketPacketDecoder({ maxAttachments: 3, maxDepth: 4 });
        for (const c of chunks) {
          const result = decoder.add(c);
          if (!result.ok) assert.ok(KNOWN_CODES.has(result.error.code), result.error.code);
        }
      }),
      RUNS,
    );
  });

  it("add never throws on mutated valid encodings", () => {
    const mutation = fc.record({
      at: fc.nat(),
      cut: fc.nat(3),
      insert: fc.string({ maxLength: 3 }),
    });
    fc.assert(
      fc.property(socketPacket, mutation, (packet, { at, cut, insert }) => {
        const [header, ...attachments] = encodeSocketPacket(packet);
        const text = header as string;
        const i = at % (text.length + 1);
        const mutated = text.slice(0, i) + insert + text.slice(i + cut);
        const decoder = new SocketPacketDecoder();
        for (const c of [mutated, ...attachments]) {
          const result = decoder.add(c);
          if (!result.ok) assert.ok(KNOWN_CODES.has(result.error.code), result.error.code);
        }
      }),
      RUNS,
    );
  });
});
