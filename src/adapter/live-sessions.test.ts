import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { SocketDetails } from "./adapter.js";
import { admitTaken, LiveSessions } from "./live-sessions.js";
import type { StoredSession } from "./session-codec.js";

const sockets = new Map<string, SocketDetails>();
const writes: StoredSession[] = [];
const removed: string[] = [];
const errors: string[] = [];
let isFailing = false;
let current: LiveSessions | undefined;

function create(): LiveSessions {
  current = new LiveSessions({
    node: "n1",
    refreshMs: 1000,
    delayMs: 60_000, // flushed by hand
    describe: (sid) => sockets.get(sid),
    sink: {
      write: async (session) => {
        if (isFailing) throw new Error("down");
        writes.push(session);
      },
      remove: async (pid) => {
        removed.push(pid);
      },
    },
    onError: (error) => errors.push(error.message),
  });
  return current;
}

function connect(live: LiveSessions, sid: string, rooms: string[], now = 1): void {
  sockets.set(sid, { id: sid, handshake: {}, rooms: new Set([sid, ...rooms]), data: { sid } });
  live.track({ sid, pid: `p-${sid}`, startOffset: "7-0" }, now);
}

afterEach(() => {
  current?.close();
  sockets.clear();
  writes.length = 0;
  removed.length = 0;
  errors.length = 0;
  isFailing = false;
});

describe("live session snapshots", () => {
  test("a connect writes at once, marked live, with rooms and data; later joins share a write", () => {
    const live = create();
    connect(live, "a", ["red"]);
    const snapshot = {
      sid: "a",
      pid: "p-a",
      rooms: ["a", "red"],
      data: { sid: "a" },
      startOffset: "7-0",
      node: "n1",
      live: true,
    };
    assert.deepEqual(writes, [snapshot]);
    (sockets.get("a")!.rooms as Set<string>).add("blue"); // rooms are read when written
    live.touch("a");
    (sockets.get("a")!.rooms as Set<string>).delete("red");
    live.touch("a");
    live.flush(2);
    assert.deepEqual(writes, [snapshot, { ...snapshot, rooms: ["a", "blue"] }]);
    live.flush(3);
    assert.equal(writes.length, 2, "nothing changed, nothing written");
  });

  test("untracked sockets are ignored", () => {
    const live = create();
    connect(live, "a", []);
    live.touch("a");
    live.touch("stranger");
    live.flush(2);
    assert.deepEqual(
      writes.map((w) => w.sid),
      ["a", "a"],
    );
  });

  test("a persisted session replaces the snapshot: a pending write is dropped, nothing removed", () => {
    const live = create();
    connect(live, "a", []);
    live.touch("a");
    live.persisted("a");
    live.flush(2);
    live.left("a");
    assert.equal(writes.length, 1);
    assert.deepEqual(removed, []);
    assert.equal(live.size, 0);
  });

  test("a socket that leaves with nothing saved has its snapshot removed", () => {
    const live = create();
    connect(live, "a", []);
    live.left("a");
    live.touch("a");
    live.flush(2);
    assert.deepEqual(removed, ["p-a"]);
    assert.equal(writes.length, 1);
  });

  test("refresh writes again what was written at least half a period ago", () => {
    const live = create();
    connect(live, "a", [], 1000);
    connect(live, "b", [], 1000);
    connect(live, "c", [], 1200);
    live.refresh(1499);
    assert.equal(writes.length, 3);
    live.refresh(1500);
    assert.deepEqual(
      writes.slice(3).map((w) => w.sid),
      ["a", "b"],
    );
  });

  test("a failed write is reported, and the socket stays tracked", () => {
    const live = create();
    isFailing = true;
    connect(live, "a", []);
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        assert.deepEqual(errors, ["cannot write a session snapshot: Error: down"]);
        assert.equal(live.size, 1);
        resolve();
      }),
    );
  });
});

describe("admitting a taken session", () => {
  const saved: StoredSession = {
    sid: "s",
    pid: "p",
    rooms: ["s"],
    data: {},
    startOffset: "1-0",
    node: "other",
  };
  const live = { ...saved, live: true };
  const copy = { ...live, restoring: true };

  interface Cluster {
    alive?: string[];
    held?: boolean | "error";
    /** This node settles that many ms into the restore (default: settled). */
    settlesIn?: number;
    /** A node heard from 5 ms into the restore. */
    joins?: string;
    /** What taking again finds (default: the session taken first). */
    again?: StoredSession | undefined;
  }

  /** Runs admitTaken on `session` in `cluster`: what it returns, how many put-backs. */
  async function admit(session: StoredSession, cluster: Cluster) {
    const alive = new Set(cluster.alive ?? []);
    let putBacks = 0;
    const view = {
      uid: "me",
      isLiveNode: (uid: string) => alive.has(uid),
      fetchSockets: async () => {
        if (cluster.held === "error") throw new Error("broker down");
        const socket = { id: "s", handshake: {}, rooms: new Set<string>(), data: {} };
        return cluster.held === true ? [socket] : [];
      },
    };
    if (cluster.joins !== undefined) setTimeout(() => alive.add(cluster.joins!), 5);
    const result = await admitTaken(view, {
      taken: session,
      sessionOf: (taken) => taken,
      settledAt: Date.now() + (cluster.settlesIn ?? -1),
      retake: async () => ("again" in cluster ? cluster.again : session),
      putBack: async () => putBacks++,
    });
    return { result, putBacks };
  }

  test("each case of the table", async () => {
    const cases: [string, StoredSession, Cluster, StoredSession | undefined, number][] = [
      ["a saved session", saved, { alive: ["other"], held: true }, saved, 0],
      ["this node's snapshot", { ...live, node: "me" }, {}, { ...live, node: "me" }, 0],
      ["this node's copy from an earlier restore", { ...copy, node: "me" }, {}, undefined, 0],
      ["a dead node's snapshot", live, {}, live, 0],
      ["a dead node's copy", copy, {}, copy, 0],
      ["a live node restoring it", copy, { alive: ["other"] }, undefined, 1],
      ["a live node holding the socket", live, { alive: ["other"], held: true }, undefined, 1],
      ["a live node that cannot be asked", live, { alive: ["other"], held: "error" }, undefined, 1],
      ["a live node that let it go", live, { alive: ["other"], held: false }, live, 1],
      [
        "a live node that let it go and saved it",
        live,
        { alive: ["other"], again: saved },
        saved,
        1,
      ],
      ["taken by another meanwhile", live, { alive: ["other"], again: undefined }, undefined, 1],
      [
        "another node's copy meanwhile",
        live,
        { alive: ["other"], again: { ...copy, node: "third" } },
        undefined,
        2,
      ],
      [
        "unknown before settling, heard from",
        copy,
        { settlesIn: 50, joins: "other" },
        undefined,
        1,
      ],
      ["unknown before settling, and after", live, { settlesIn: 50 }, live, 1],
    ];
    for (const [name, session, cluster, result, putBacks] of cases) {
      assert.deepEqual(await admit(session, cluster), { result, putBacks }, name);
    }
  });
});
