import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NamespacePort, SocketId } from "./adapter.js";
import { InMemoryAdapter } from "./in-memory-adapter.js";

/**
 * An adapter on a port whose namespace lists the ids in `listed` (empty unless a test adds
 * ids: the adapter then has to record every socket itself).
 */
function adapterWithPort(): {
  adapter: InMemoryAdapter;
  delivered: SocketId[];
  listed: Set<SocketId>;
} {
  const delivered: SocketId[] = [];
  const listed = new Set<SocketId>();
  const port: NamespacePort = {
    name: "/",
    recovery: undefined,
    deliver(id) {
      delivered.push(id);
      return true;
    },
    socketIds: () => listed.keys(),
    hasSocket: (id) => listed.has(id),
    describe: () => undefined,
    disconnect() {},
    receiveServerSideEmit() {},
    nextAckId: () => 0,
  };
  return { adapter: new InMemoryAdapter(port), delivered, listed };
}

const EVENT = { type: 2, nsp: "/", data: ["e"] } as const;
const ALL = new Set<string>();

describe("InMemoryAdapter room index", () => {
  it("reports single-member rooms and single-room sockets as sets", () => {
    const { adapter } = adapterWithPort();
    adapter.addAll("a", ["a"]);
    assert.deepEqual([...(adapter.rooms.get("a") ?? [])], ["a"]);
    assert.deepEqual([...(adapter.socketRooms("a") ?? [])], ["a"]);
    assert.equal(adapter.rooms.size, 1);
    assert.equal(adapter.rooms.has("a"), true);
    assert.equal(adapter.socketRooms("nobody"), undefined);
  });

  it("grows to sets and shrinks back as sockets join and leave", () => {
    const { adapter } = adapterWithPort();
    adapter.addAll("a", ["a", "red"]);
    adapter.addAll("b", ["b", "red"]);
    assert.deepEqual([...(adapter.rooms.get("red") ?? [])], ["a", "b"]);
    assert.deepEqual([...(adapter.socketRooms("a") ?? [])], ["a", "red"]);
    adapter.del("a", "red");
    assert.deepEqual([...(adapter.rooms.get("red") ?? [])], ["b"]);
    assert.deepEqual([...(adapter.socketRooms("a") ?? [])], ["a"]);
    adapter.del("a", "a");
    assert.deepEqual([...(adapter.socketRooms("a") ?? ["missing"])], [], "known, in no room");
    adapter.delAll("b");
    assert.equal(adapter.rooms.has("red"), false);
    assert.deepEqual(
      [...adapter.rooms.entries()].map(([room, ids]) => [room, [...ids]]),
      [],
    );
  });

  it("matches every socket, one room, several rooms, and exceptions", async () => {
    const { adapter, delivered } = adapterWithPort();
    adapter.addAll("a", ["a", "red"]);
    adapter.addAll("b", ["b", "red", "blue"]);
    adapter.addAll("c", ["c", "blue"]);
    const run = (rooms: string[], except: string[] = []): string[] => {
      delivered.length = 0;
      adapter.broadcast(EVENT, { rooms: new Set(rooms), except: new Set(except), flags: {} });
      return [...delivered].sort();
    };
    assert.deepEqual(run([]), ["a", "b", "c"]);
    assert.deepEqual(run(["a"]), ["a"]);
    assert.deepEqual(run(["red", "blue"]), ["a", "b", "c"]);
    assert.deepEqual(run(["red"], ["blue"]), ["a"]);
    assert.deepEqual(run([], ["c"]), ["a", "b"]);
    assert.deepEqual(run(["a"], ["a"]), []);
    assert.deepEqual([...(await adapter.sockets(ALL))].sort(), ["a", "b", "c"]);
  });

  it("keeps a socket's own room implicit, also when others join a room named after it", () => {
    const { adapter, delivered } = adapterWithPort();
    const run = (rooms: string[], except: string[] = []): string[] => {
      delivered.length = 0;
      adapter.broadcast(EVENT, { rooms: new Set(rooms), except: new Set(except), flags: {} });
      return [...delivered].sort();
    };
    const snapshot = () =>
      Object.fromEntries([...adapter.rooms].map(([room, ids]) => [room, [...ids].sort()]));
    adapter.addAll("a", ["a"]);
    adapter.addAll("b", ["b", "a"]); // b joins the room named after a
    assert.deepEqual(snapshot(), { a: ["a", "b"], b: ["b"] });
    assert.equal(adapter.rooms.size, 2);
    assert.deepEqual([...adapter.rooms.keys()].sort(), ["a", "b"]);
    const seen: string[] = [];
    adapter.rooms.forEach((ids, room) => {
      seen.push(`${room}:${[...ids].sort().join("+")}`);
    });
    assert.deepEqual(seen.sort(), ["a:a+b", "b:b"]);
    assert.deepEqual(run(["a"]), ["a", "b"]);
    assert.deepEqual(run(["a", "b"]), ["a", "b"]);
    assert.deepEqual(run([], ["a"]), []);
    assert.deepEqual(run(["b"], ["a"]), []);
    adapter.del("a", "a"); // a leaves its own room: only b is left in it
    assert.deepEqual(snapshot(), { a: ["b"], b: ["b"] });
    assert.deepEqual(run(["a"]), ["b"]);
    assert.deepEqual(run([]), ["a", "b"], "a is still a socket of the namespace");
    adapter.addAll("a", ["a"]);
    adapter.delAll("a");
    assert.deepEqual(snapshot(), { a: ["b"], b: ["b"] });
    assert.equal(adapter.socketRooms("a"), undefined);
    adapter.delAll("b");
    assert.deepEqual(snapshot(), {});
    assert.equal(adapter.rooms.size, 0);
    assert.equal(adapter.rooms.has("a"), false);
    let visited = 0;
    adapter.rooms.forEach(() => {
      visited++;
    });
    assert.equal(visited, 0);
  });
});

describe("InMemoryAdapter with sockets the namespace lists", () => {
  /** The server's order: listed, then in its own room; out of every room, then unlisted. */
  function setup() {
    const fixture = adapterWithPort();
    const { adapter, delivered, listed } = fixture;
    const connect = (id: SocketId): void => {
      listed.add(id);
      adapter.addAll(id, [id]);
    };
    const disconnect = (id: SocketId): void => {
      adapter.delAll(id);
      listed.delete(id);
    };
    const run = (rooms: string[], except: string[] = []): string[] => {
      delivered.length = 0;
      adapter.broadcast(EVENT, { rooms: new Set(rooms), except: new Set(except), flags: {} });
      return [...delivered];
    };
    const snapshot = () =>
      Object.fromEntries([...adapter.rooms].map(([room, ids]) => [room, [...ids].sort()]));
    const roomsOf = (id: SocketId): string[] | undefined => {
      const rooms = adapter.socketRooms(id);
      return rooms === undefined ? undefined : [...rooms].sort();
    };
    return { ...fixture, connect, disconnect, run, snapshot, roomsOf };
  }

  it("answers for sockets in their own room alone from the port, without an entry", async () => {
    const { adapter, listed, connect, run, snapshot, roomsOf } = setup();
    for (const id of ["a", "b", "c"]) connect(id);
    assert.deepEqual(roomsOf("a"), ["a"]);
    assert.deepEqual(snapshot(), { a: ["a"], b: ["b"], c: ["c"] });
    assert.equal(adapter.rooms.size, 3);
    assert.deepEqual([...adapter.rooms.keys()], ["a", "b", "c"]);
    assert.equal(adapter.rooms.has("b"), true);
    assert.equal(adapter.rooms.has("nobody"), false);
    assert.equal(adapter.rooms.get("nobody"), undefined);
    assert.deepEqual(run([]), ["a", "b", "c"]);
    assert.deepEqual(run(["b"]), ["b"]);
    assert.deepEqual(run([], ["a"]), ["b", "c"]);
    assert.deepEqual(run(["a", "c"], ["c"]), ["a"]);
    assert.deepEqual(run(["nobody"]), []);
    assert.deepEqual([...(await adapter.sockets(ALL))], ["a", "b", "c"]);
    // No entry: once the port stops listing c (which the server only does after delAll),
    // nothing is left of it.
    listed.delete("c");
    assert.equal(adapter.socketRooms("c"), undefined);
    assert.deepEqual(run([]), ["a", "b"]);
    assert.deepEqual(snapshot(), { a: ["a"], b: ["b"] });
  });

  it("records a socket that joins a room, and forgets it again when it leaves", () => {
    const { adapter, listed, connect, run, snapshot, roomsOf } = setup();
    connect("a");
    connect("b");
    adapter.addAll("a", ["red"]);
    assert.deepEqual(roomsOf("a"), ["a", "red"]);
    assert.deepEqual(snapshot(), { red: ["a"], a: ["a"], b: ["b"] });
    assert.equal(adapter.rooms.size, 3);
    assert.deepEqual(run(["red"]), ["a"]);
    assert.deepEqual(run([], ["red"]), ["b"]);
    assert.deepEqual(run(["red", "b"], ["a"]), ["b"]);
    adapter.addAll("a", ["blue"]);
    adapter.del("a", "red");
    adapter.del("a", "blue");
    assert.deepEqual(roomsOf("a"), ["a"]);
    assert.deepEqual(snapshot(), { a: ["a"], b: ["b"] });
    assert.deepEqual(run([]), ["a", "b"]);
    // Back to no entry: unlisted without delAll, a is gone.
    listed.delete("a");
    assert.equal(adapter.socketRooms("a"), undefined);
  });

  it("keeps a socket that left its own room, in no room, as a socket of the namespace", () => {
    const { adapter, connect, disconnect, run, snapshot, roomsOf } = setup();
    connect("a");
    connect("b");
    adapter.del("a", "a");
    assert.deepEqual(roomsOf("a"), []);
    assert.deepEqual(snapshot(), { b: ["b"] });
    assert.equal(adapter.rooms.size, 1);
    assert.equal(adapter.rooms.has("a"), false);
    assert.deepEqual(run(["a"]), []);
    assert.deepEqual(run([]), ["a", "b"]);
    adapter.addAll("b", ["a"]); // b joins the room named after a
    assert.deepEqual(snapshot(), { a: ["b"], b: ["b"] });
    assert.deepEqual(run(["a"]), ["b"]);
    adapter.addAll("a", ["a"]);
    assert.deepEqual(snapshot(), { a: ["a", "b"], b: ["b"] });
    assert.deepEqual(run(["a"]), ["a", "b"]);
    disconnect("b");
    assert.deepEqual(snapshot(), { a: ["a"] });
    assert.deepEqual(roomsOf("a"), ["a"]);
  });

  it("forgets a socket at delAll although the port lists it a little longer", async () => {
    const { adapter, listed, connect, disconnect, run, snapshot, roomsOf } = setup();
    connect("a");
    connect("b");
    connect("c");
    adapter.addAll("b", ["red"]);
    adapter.delAll("a"); // the server's order: delAll, then the namespace forgets the socket
    assert.equal(listed.has("a"), true);
    assert.equal(adapter.socketRooms("a"), undefined);
    assert.equal(adapter.rooms.has("a"), false);
    assert.deepEqual(snapshot(), { red: ["b"], b: ["b"], c: ["c"] });
    assert.deepEqual(run([]), ["b", "c"]);
    assert.deepEqual(run(["a"]), []);
    assert.deepEqual([...(await adapter.sockets(ALL))], ["b", "c"]);
    listed.delete("a");
    disconnect("b");
    assert.equal(adapter.socketRooms("b"), undefined);
    assert.deepEqual(snapshot(), { c: ["c"] });
    assert.deepEqual(run([]), ["c"]);
    // The same id connecting again (a recovered session) is a socket of its own room again.
    connect("a");
    assert.deepEqual(roomsOf("a"), ["a"]);
    assert.deepEqual(run([]), ["c", "a"]);
  });

  it("treats a socket delAll removed while still listed as unknown until it joins again", () => {
    const { adapter, connect, run, roomsOf } = setup();
    connect("a");
    connect("b");
    adapter.delAll("a");
    adapter.delAll("b");
    assert.equal(adapter.socketRooms("a"), undefined);
    assert.deepEqual(run([]), []);
    adapter.addAll("a", ["x"]); // as before: an entry of its own, without its own room
    assert.deepEqual(roomsOf("a"), ["x"]);
    assert.deepEqual(run([]), ["a"]);
    assert.deepEqual(run(["a"]), []);
    assert.deepEqual(adapter.rooms.has("a"), false);
  });

  it("still counts a socket that joined a room after it disconnected, as before", async () => {
    const { adapter, connect, disconnect, run, snapshot, roomsOf } = setup();
    connect("a");
    connect("b");
    disconnect("a");
    adapter.addAll("a", ["late"]);
    assert.deepEqual(roomsOf("a"), ["late"]);
    assert.deepEqual(snapshot(), { late: ["a"], b: ["b"] });
    assert.deepEqual(run([]), ["b", "a"]);
    assert.deepEqual(run([], ["late"]), ["b"]);
    assert.deepEqual([...(await adapter.sockets(ALL))], ["b", "a"]);
    adapter.delAll("a");
    assert.deepEqual(snapshot(), { b: ["b"] });
    assert.deepEqual(run([]), ["b"]);
  });
});
