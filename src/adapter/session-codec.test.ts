import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import notepack from "notepack.io";
import { decodeSession, encodeSession, isForRooms } from "./session-codec.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("stored sessions", () => {
  const session = {
    sid: "s1",
    pid: "p1",
    rooms: ["s1", "room"],
    data: { user: "ada", avatar: Buffer.from([9]) },
    startOffset: "12-3",
    node: "n1",
  };

  test("encode and decode both ways", () => {
    const bytes = encodeSession(session);
    assert.equal(hex(bytes), hex(notepack.encode(session)));
    assert.deepEqual(decodeSession(bytes), session);
  });

  test("the ack ledger travels as its toJSON() snapshot; a missing start offset stays missing", () => {
    const ledger = { toJSON: () => ({ capacity: 5, answered: [[3, ["ok"]]] }) };
    const bytes = encodeSession({ ...session, startOffset: undefined, acks: ledger });
    assert.deepEqual(decodeSession(bytes), {
      ...session,
      startOffset: undefined,
      acks: { capacity: 5, answered: [[3, ["ok"]]] },
    });
  });

  test("a live snapshot keeps its mark both ways; anything but true is no mark", () => {
    const bytes = encodeSession({ ...session, live: true });
    assert.equal(hex(bytes), hex(notepack.encode({ ...session, live: true })));
    assert.deepEqual(decodeSession(bytes), { ...session, live: true });
    assert.deepEqual(decodeSession(notepack.encode({ ...session, live: 1 })), session);
    const copy = { ...session, live: true, restoring: true };
    assert.equal(hex(encodeSession(copy)), hex(notepack.encode(copy)));
    assert.deepEqual(decodeSession(encodeSession(copy)), copy);
    assert.deepEqual(decodeSession(notepack.encode({ ...session, restoring: true })), session);
  });

  test("malformed sessions decode to undefined", () => {
    for (const value of [null, [], { ...session, sid: 1 }, { ...session, rooms: [1] }, "x"]) {
      assert.equal(decodeSession(notepack.encode(value)), undefined);
    }
    assert.equal(decodeSession(Buffer.from([0xc1])), undefined);
  });

  test("round trip for arbitrary rooms and data", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.jsonValue(), (rooms, data) => {
        const value = { ...session, rooms, data };
        const decoded = decodeSession(encodeSession(value));
        assert.deepEqual(decoded?.rooms, rooms);
      }),
    );
  });
});

describe("stored broadcasts and session rooms", () => {
  test("a stored broadcast is for a session in one of its rooms and none of its except", () => {
    const rooms = new Set(["s1", "red"]);
    assert.equal(isForRooms(rooms, { rooms: [], except: [] }), true);
    assert.equal(isForRooms(rooms, { rooms: ["red", "blue"], except: [] }), true);
    assert.equal(isForRooms(rooms, { rooms: ["blue"], except: [] }), false);
    assert.equal(isForRooms(rooms, { rooms: [], except: ["red"] }), false);
    assert.equal(isForRooms(rooms, { rooms: ["s1"], except: ["blue"] }), true);
  });
});
