/**
 * The adapter suite: one set of cross-node tests that every cluster adapter (memory, Redis,
 * NATS) must pass, with three server nodes in this process and official clients on each.
 * `skip` lists tests an adapter cannot run, with the reason; `skipAll` skips the suite
 * (a missing broker binary outside CI).
 */
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import { AdapterError, type RemoteSocket, TimeoutError } from "../../src/server/index.js";
import { closeClients, collect, waitFor } from "../support/harness.js";
import {
  type AdapterFixture,
  type ClusterNode,
  joinClient,
  startCluster,
  TIMING,
  waitForServerCount,
  waitUntil,
  whoGets,
} from "./cluster-harness.js";

/** How to run the suite for one adapter. */
export interface AdapterSuiteOptions {
  readonly name: string;
  /** Starts the broker; called once before the tests. */
  readonly create: () => Promise<AdapterFixture>;
  /** Tests this adapter cannot run, and why. */
  readonly skip?: readonly { readonly reason: string; readonly tests: readonly string[] }[];
  /** When set, the whole suite is skipped with this reason. */
  readonly skipAll?: string | undefined;
}

interface Context {
  readonly fixture: AdapterFixture;
  /** Three nodes n0, n1, n2. */
  nodes: ClusterNode[];
  /** a (red) on n0, b (red, blue) on n1, c (blue) on n2, d (no room) on n0. */
  clients: Record<string, ClientSocket>;
}

type SuiteTest = (ctx: Context) => Promise<void>;

/** Runs every test of the suite for one adapter. */
export function runAdapterSuite(options: AdapterSuiteOptions): void {
  describe(`adapter suite: ${options.name}`, {
    skip: options.skipAll ?? false,
    timeout: 20_000,
  }, () => {
    let fixture: AdapterFixture | undefined;
    let ctx: Context | undefined;
    before(async () => {
      fixture = await options.create();
    });
    after(async () => {
      await fixture?.close();
    });
    afterEach(async () => {
      closeClients();
      await Promise.allSettled((ctx?.nodes ?? []).map((node) => node.close()));
      ctx = undefined;
      await fixture?.startBroker(); // in case a test failed while the broker was down
    });
    for (const [name, body] of Object.entries(TESTS)) {
      const skipped = options.skip?.find((s) => s.tests.includes(name));
      test(name, { skip: skipped?.reason ?? false }, async () => {
        ctx = await setUp(fixture!);
        await body(ctx);
      });
    }
  });
}

async function setUp(fixture: AdapterFixture): Promise<Context> {
  const nodes = await startCluster(fixture);
  const [n0, n1, n2] = nodes as [ClusterNode, ClusterNode, ClusterNode];
  const [a, b, c, d] = await Promise.all([
    joinClient(n0, "a", ["red"]),
    joinClient(n1, "b", ["red", "blue"]),
    joinClient(n2, "c", ["blue"]),
    joinClient(n0, "d"),
  ]);
  return { fixture, nodes, clients: { a, b, c, d } };
}

function nodesOf(ctx: Context): [ClusterNode, ClusterNode, ClusterNode] {
  return ctx.nodes as [ClusterNode, ClusterNode, ClusterNode];
}

/** Every client answers "ask" with its name. */
function answerAsks(clients: Record<string, ClientSocket>, except: readonly string[] = []): void {
  for (const [name, client] of Object.entries(clients)) {
    if (!except.includes(name)) client.on("ask", (ack: (name: string) => void) => ack(name));
  }
}

const TESTS: Record<string, SuiteTest> = {
  "a broadcast reaches clients on every node": async (ctx) => {
    const [n0] = nodesOf(ctx);
    const got = await whoGets(ctx.clients, "hello", n0, () => n0.io.emit("hello", 1));
    assert.deepEqual(got, ["a", "b", "c", "d"]);
  },

  "rooms and except are honoured on every node": async (ctx) => {
    const [n0, n1, n2] = nodesOf(ctx);
    const { clients } = ctx;
    assert.deepEqual(await whoGets(clients, "m1", n1, () => n1.io.to("red").emit("m1")), [
      "a",
      "b",
    ]);
    assert.deepEqual(await whoGets(clients, "m2", n2, () => n2.io.except("blue").emit("m2")), [
      "a",
      "d",
    ]);
    assert.deepEqual(
      await whoGets(clients, "m3", n0, () => n0.io.to(["red", "blue"]).except("red").emit("m3")),
      ["c"],
    );
    const [serverSideA] = [...n0.io.sockets.sockets.values()].filter((s) => s.data.name === "a");
    assert.deepEqual(await whoGets(clients, "m4", n0, () => serverSideA!.broadcast.emit("m4")), [
      "b",
      "c",
      "d",
    ]);
  },

  "local broadcasts stay on their node": async (ctx) => {
    const [n0] = nodesOf(ctx);
    assert.deepEqual(await whoGets(ctx.clients, "m", n0, () => n0.io.local.emit("m")), ["a", "d"]);
  },

  "binary payloads cross nodes as bytes": async (ctx) => {
    const [n0] = nodesOf(ctx);
    const received = waitFor<[unknown, { inner: unknown }]>(ctx.clients.c!, "bin");
    n0.io.emit("bin", Buffer.from([1, 2, 3]), { inner: new Uint8Array([250, 0, 7]) });
    const [first, { inner }] = await received;
    assert.deepEqual([...new Uint8Array(first as ArrayBuffer)], [1, 2, 3]);
    assert.deepEqual([...new Uint8Array(inner as ArrayBuffer)], [250, 0, 7]);
  },

  "a non-default namespace spans nodes too": async (ctx) => {
    const [n0, n1, n2] = nodesOf(ctx);
    for (const node of ctx.nodes) node.io.of("/admin");
    const x = await joinClient(n1, "x", [], "/admin");
    const y = await joinClient(n2, "y", [], "/admin");
    await waitForServerCount(ctx.nodes, 3, "/admin");
    const got = Promise.all([waitFor(x, "news"), waitFor(y, "news")]);
    n0.io.of("/admin").emit("news", "hi");
    assert.deepEqual(
      (await got).map((args) => args[0]),
      ["hi", "hi"],
    );
  },

  "broadcast acks count the clients of every node": async (ctx) => {
    const [n0, , n2] = nodesOf(ctx);
    answerAsks(ctx.clients);
    const all = await n0.io.timeout(2000).emitWithAck("ask");
    assert.deepEqual((all as string[]).sort(), ["a", "b", "c", "d"]);
    const blue = await n2.io.to("blue").timeout(2000).emitWithAck("ask");
    assert.deepEqual((blue as string[]).sort(), ["b", "c"]);
  },

  "broadcast acks time out with the acks received": async (ctx) => {
    const [n0] = nodesOf(ctx);
    answerAsks(ctx.clients, ["c"]);
    const started = Date.now();
    const [err, responses] = await new Promise<[Error | null, unknown[]]>((resolve) => {
      n0.io.timeout(500).emit("ask", (e: Error | null, r: unknown[]) => resolve([e, r]));
    });
    assert.ok(err instanceof TimeoutError);
    assert.deepEqual((responses as string[]).sort(), ["a", "b", "d"]);
    assert.ok(Date.now() - started < 1500);
  },

  "fetchSockets returns sockets of every node with their details": async (ctx) => {
    const [n0] = nodesOf(ctx);
    const sockets = await n0.io.in("red").fetchSockets();
    const byName = new Map(sockets.map((s) => [(s.data as { name: string }).name, s]));
    assert.deepEqual([...byName.keys()].sort(), ["a", "b"]);
    const b = byName.get("b")!;
    assert.equal(b.id, ctx.clients.b!.id);
    assert.deepEqual([...b.rooms].sort(), [b.id, "blue", "red"].sort());
    assert.equal((b.handshake.auth as { name: string }).name, "b");
    assert.equal(typeof b.handshake.issued, "number");
    assert.equal((await n0.io.fetchSockets()).length, 4);
    assert.equal((await n0.io.except("red").fetchSockets()).length, 2);
    assert.deepEqual(await n0.io.in("nowhere").fetchSockets(), []);
  },

  "a remote socket can be emitted to, moved between rooms and disconnected": async (ctx) => {
    const [n0] = nodesOf(ctx);
    const { clients } = ctx;
    const remote = (await n0.io.in("blue").fetchSockets()).find(
      (s) => (s.data as { name: string }).name === "b",
    ) as RemoteSocket;
    const direct = waitFor(clients.b!, "direct");
    remote.emit("direct", 42);
    assert.equal((await direct)[0], 42);
    remote.join("green");
    assert.deepEqual(await whoGets(clients, "g1", n0, () => n0.io.to("green").emit("g1")), ["b"]);
    remote.leave("green");
    assert.deepEqual(await whoGets(clients, "g2", n0, () => n0.io.to("green").emit("g2")), []);
    const gone = waitFor(clients.b!, "disconnect");
    remote.disconnect();
    assert.equal((await gone)[0], "io server disconnect");
  },

  "socketsJoin and socketsLeave act on every node": async (ctx) => {
    const [n0, n1] = nodesOf(ctx);
    const { clients } = ctx;
    n1.io.in("red").socketsJoin("x");
    assert.deepEqual(await whoGets(clients, "m1", n1, () => n1.io.to("x").emit("m1")), ["a", "b"]);
    n1.io.socketsLeave("x");
    assert.deepEqual(await whoGets(clients, "m2", n1, () => n1.io.to("x").emit("m2")), []);
    n0.io.except("blue").socketsJoin(["y", "z"]);
    assert.deepEqual(await whoGets(clients, "m3", n0, () => n0.io.to("z").emit("m3")), ["a", "d"]);
  },

  "disconnectSockets acts on every node": async (ctx) => {
    const [, , n2] = nodesOf(ctx);
    const { clients } = ctx;
    const gone = Promise.all([
      waitFor(clients.b!, "disconnect"),
      waitFor(clients.c!, "disconnect"),
    ]);
    n2.io.in("blue").disconnectSockets();
    await gone;
    assert.equal(clients.a!.connected, true);
    await waitUntil(async () => (await n2.io.fetchSockets()).length === 2, "two sockets remain");
  },

  "serverSideEmit reaches the other nodes and collects their acks": async (ctx) => {
    const [n0, n1, n2] = nodesOf(ctx);
    const heard = Promise.all([collect(n1.io, "note", 1), collect(n2.io, "note", 1)]);
    n0.io.on("note", () => assert.fail("a node must not hear its own serverSideEmit"));
    n0.io.serverSideEmit("note", "hi");
    assert.deepEqual(await heard, [["hi"], ["hi"]]);
    for (const node of [n1, n2]) {
      node.io.on("whoami", (prefix: string, ack: (answer: string) => void) => {
        ack(`${prefix}${node.name}`);
      });
    }
    const answers = await n0.io.serverSideEmitWithAck("whoami", "I am ");
    assert.deepEqual((answers as string[]).sort(), ["I am n1", "I am n2"]);
  },

  "a node that closes leaves the count at once": async (ctx) => {
    const [n0, n1, n2] = nodesOf(ctx);
    assert.equal(await n0.io.sockets.adapter.serverCount(), 3);
    await n2.close();
    // ADAPTER_CLOSE, not the heartbeat timeout (1500 ms), must be what tells the others
    await waitForServerCount([n0, n1], 2, "/", TIMING.heartbeatTimeout / 2);
    assert.equal((await n0.io.fetchSockets()).length, 3);
  },

  "a dead node costs one timeout, then requests skip it": async (ctx) => {
    const [n0, n1, n2] = nodesOf(ctx);
    n1.io.on("whoami", (ack: (answer: string) => void) => ack("n1"));
    n2.io.on("whoami", (ack: (answer: string) => void) => ack("n2"));
    await n2.kill();
    let started = Date.now();
    const sockets = await n0.io.fetchSockets();
    const names = sockets.map((s) => (s.data as { name: string }).name).sort();
    assert.deepEqual(names, ["a", "b", "d"]);
    assert.ok(Date.now() - started < TIMING.requestsTimeout + 500, "resolved within the timeout");
    await waitForServerCount([n0, n1], 2, "/", TIMING.heartbeatTimeout + 1000);
    started = Date.now();
    assert.deepEqual(await n0.io.serverSideEmitWithAck("whoami"), ["n1"]);
    assert.equal((await n0.io.fetchSockets()).length, 3);
    answerAsks(ctx.clients);
    const acks = await n0.io.timeout(2000).emitWithAck("ask");
    assert.deepEqual((acks as string[]).sort(), ["a", "b", "d"]);
    assert.ok(Date.now() - started < 500, "no request waited for the dead node");
  },

  "a broker restart: local delivery goes on, cross-node requests fail fast, then all resumes":
    async (ctx) => {
      const [n0, n1] = nodesOf(ctx);
      const { clients } = ctx;
      await ctx.fixture.stopBroker();
      await waitForServerCount(ctx.nodes, 1);
      const local = Promise.all([waitFor(clients.a!, "during"), waitFor(clients.d!, "during")]);
      n0.io.emit("during");
      await local;
      const started = Date.now();
      await assert.rejects(n0.io.fetchSockets(), AdapterError);
      assert.ok(Date.now() - started < 200, "failed fast");
      assert.ok(
        n0.errors.some((e) => e instanceof AdapterError),
        "the failed publish was reported",
      );
      await ctx.fixture.startBroker();
      await waitForServerCount(ctx.nodes, 3, "/", 8000);
      assert.deepEqual(await whoGets(clients, "after", n1, () => n1.io.emit("after")), [
        "a",
        "b",
        "c",
        "d",
      ]);
      assert.equal((await n1.io.fetchSockets()).length, 4);
    },
};

/** The names of the suite's tests, for `skip` lists. */
export const ADAPTER_SUITE_TESTS: readonly string[] = Object.keys(TESTS);
