import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import notepack from "notepack.io";
import { type ClusterMessage, ClusterMessageType } from "../adapter/cluster-message.js";
import { ErrorCode } from "../errors.js";
import {
  compareStreamIds,
  decodeStreamEntry,
  encodeMessageFields,
  encodeStoredFields,
  isStreamId,
  parseXRangeReply,
  parseXReadReply,
  type RawStreamEntry,
  type StreamEntry,
} from "./stream-codec.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** XADD field arguments as the entry XRANGE would give back. */
function asEntry(id: string, fields: readonly (string | Buffer)[]): RawStreamEntry {
  const map = new Map<string, Buffer>();
  for (let i = 0; i < fields.length; i += 2)
    map.set(String(fields[i]), Buffer.from(fields[i + 1]!));
  return { id, fields: map };
}

const packet = { type: 2, nsp: "/", data: ["ev", Buffer.from([1, 2])] };
const opts = { rooms: ["r"], except: ["x"], flags: { compress: true } };

describe("stream entries, both ways", () => {
  const stored: { name: string; local: boolean; wire: string[]; entry: StreamEntry }[] = [
    {
      name: "a stored broadcast",
      local: false,
      wire: ["uid", "u1", "nsp", "/", "type", "3", "data", "<data>", "stored", "1"],
      entry: {
        kind: "stored",
        broadcast: { id: "5-0", uid: "u1", nsp: "/", isLocal: false, packet, opts },
      },
    },
    {
      name: "a stored local broadcast",
      local: true,
      wire: ["uid", "u1", "nsp", "/", "type", "3", "data", "<data>", "stored", "1", "local", "1"],
      entry: {
        kind: "stored",
        broadcast: { id: "5-0", uid: "u1", nsp: "/", isLocal: true, packet, opts },
      },
    },
  ];
  for (const row of stored) {
    test(row.name, () => {
      const fields = encodeStoredFields("u1", "/", packet, opts, row.local);
      assert.deepEqual(
        fields.map((f) => (typeof f === "string" ? f : "<data>")),
        row.wire,
      );
      // the data field is MessagePack { packet, opts }, byte for byte what notepack writes
      assert.equal(hex(fields[7] as Buffer), hex(notepack.encode({ packet, opts })));
      const decoded = decodeStreamEntry(asEntry("5-0", fields));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, row.entry);
    });
  }

  const messages: { name: string; message: ClusterMessage; data: string }[] = [
    {
      name: "a heartbeat",
      message: { uid: "u1", nsp: "/", type: ClusterMessageType.HEARTBEAT, data: undefined },
      data: "c0",
    },
    {
      name: "a socketsJoin",
      message: {
        uid: "u1",
        nsp: "/a",
        type: ClusterMessageType.SOCKETS_JOIN,
        data: { opts: { rooms: [], except: [], flags: {} }, rooms: ["g"] },
      },
      data: hex(notepack.encode({ opts: { rooms: [], except: [], flags: {} }, rooms: ["g"] })),
    },
  ];
  for (const row of messages) {
    test(row.name, () => {
      const fields = encodeMessageFields(row.message);
      const wire = [
        "uid",
        row.message.uid,
        "nsp",
        row.message.nsp,
        "type",
        String(row.message.type),
      ];
      assert.deepEqual(fields.slice(0, 6), wire);
      assert.equal(fields[6], "data");
      assert.equal(hex(fields[7] as Buffer), row.data);
      const decoded = decodeStreamEntry(asEntry("1-1", fields));
      assert.ok(decoded.ok);
      assert.deepEqual(decoded.value, { kind: "message", message: row.message });
    });
  }

  test("a marker", () => {
    const decoded = decodeStreamEntry(asEntry("1-0", ["type", "0"]));
    assert.ok(decoded.ok);
    assert.deepEqual(decoded.value, { kind: "marker" });
  });
});

describe("malformed stream entries", () => {
  const good = encodeStoredFields("u1", "/", packet, opts, false);
  const rows: { name: string; fields: (string | Buffer)[] }[] = [
    { name: "no uid", fields: good.slice(2) },
    { name: "no type", fields: ["uid", "u", "nsp", "/", "data", Buffer.from([0xc0])] },
    { name: "data not MessagePack", fields: ["uid", "u", "nsp", "/", "type", "2", "data", "\xc1"] },
    {
      name: "stored data without a packet",
      fields: ["uid", "u", "nsp", "/", "type", "3", "data", Buffer.from([0x80]), "stored", "1"],
    },
    {
      name: "a stored entry of another type",
      fields: ["uid", "u", "nsp", "/", ...good.slice(4).map((f) => (f === "3" ? "4" : f))],
    },
    {
      name: "an unknown message type",
      fields: ["uid", "u", "nsp", "/", "type", "99", "data", Buffer.from([0xc0])],
    },
  ];
  for (const row of rows) {
    test(row.name, () => {
      const decoded = decodeStreamEntry(asEntry("1-0", row.fields));
      assert.equal(decoded.ok, false);
      if (!decoded.ok) assert.equal(decoded.error.code, ErrorCode.INVALID_PAYLOAD);
    });
  }

  test("arbitrary fields never throw", () => {
    const field = fc.oneof(
      fc.constantFrom("uid", "nsp", "type", "data", "stored", "local"),
      fc.string(),
    );
    const value = fc.oneof(
      fc.constantFrom("3", "1", "0", "2"),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(field, value), { maxLength: 8 }), (pairs) => {
        const fields = new Map(pairs.map(([k, v]) => [k, Buffer.from(v)]));
        decodeStreamEntry({ id: "1-0", fields });
      }),
    );
  });
});

describe("stream ids and replies", () => {
  test("ids are compared as numbers, part by part", () => {
    assert.ok(compareStreamIds("9-0", "10-0") < 0);
    assert.ok(compareStreamIds("10-2", "10-10") < 0);
    assert.equal(compareStreamIds("7-7", "7-7"), 0);
    assert.ok(compareStreamIds("1700000000001-0", "1700000000000-99") > 0);
  });

  test("only <ms>-<seq> is an id", () => {
    for (const ok of ["0-0", "1700000000000-12"]) assert.equal(isStreamId(ok), true);
    for (const bad of [
      "1",
      "-1",
      "1-",
      "a-1",
      "1-1-1",
      "0",
      "$",
      12,
      undefined,
      `${"1".repeat(16)}-0`,
    ]) {
      assert.equal(isStreamId(bad), false);
    }
  });

  const entries = [[Buffer.from("1-0"), [Buffer.from("type"), Buffer.from("0")]]];
  const parsed = [{ id: "1-0", fields: new Map([["type", Buffer.from("0")]]) }];
  test("XREAD replies in RESP2 and RESP3 shapes", () => {
    assert.deepEqual(parseXReadReply([[Buffer.from("s"), entries]]), parsed);
    assert.deepEqual(parseXReadReply(new Map([["s", entries]])), parsed);
    assert.deepEqual(parseXReadReply({ s: entries }), parsed);
    assert.deepEqual(parseXReadReply(null), []);
  });

  test("XRANGE replies skip what is not an entry", () => {
    assert.deepEqual(parseXRangeReply([...entries, "junk", [1]]), parsed);
    assert.deepEqual(parseXRangeReply("junk"), []);
  });
});
