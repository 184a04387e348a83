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
