// Live session snapshots, what lets the clients of a crashed node recover: one suite over
// the two adapters that keep sessions outside the process (Redis Streams, NATS JetStream).
// Raw Socket.IO connections, so the pid a client presents is exactly the test's.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { decodeSession, encodeSession, type StoredSession } from "../src/adapter/session-codec.js";
import { createNatsJetStreamAdapter, type NatsJetStreamAdapter } from "../src/nats/index.js";
import { createRedisStreamsAdapter } from "../src/redis/index.js";
import { SessionClaims } from "../src/redis/session-claims.js";
import type { RedisStreamsClient } from "../src/redis/stream-reader.js";
import type { ServerOptions, Socket } from "../src/server/index.js";
import {
  type Broker,
  missingBinary,
  startNatsServer,
  startRedisServer,
} from "./cluster/brokers.js";
import { waitUntil } from "./cluster/cluster-harness.js";
import { natsConnection } from "./cluster/nats-fixture.js";
import { redisClient, type TestRedisClient } from "./cluster/redis-fixture.js";
import { startServer, type TestServer, waitFor } from "./support/harness.js";
import { closeRawClients, type RawClient, rawClient } from "./support/raw-client.js";

/** A node: its server, its adapter's cluster view, and a way to cut it off its broker. */
interface Node {
  readonly server: TestServer;
  readonly adapter: {
    readonly uid: string;
    isLiveNode(uid: string): boolean;
    lastOffset(): string | undefined;
  };
  /** The broker connection dies: the node can no longer save or answer anything. */
  cutOff(): Promise<void>;
}

/** Cluster timings a test sets. */
interface NodeOptions {
  readonly requestsTimeout?: number;
  readonly heartbeatInterval?: number;
}

/** One adapter under test. */
interface Fixture {
  readonly name: string;
  readonly binary: string;
  setUp(): Promise<void>;
  node(opts: NodeOptions): Promise<Node>;
  /** The session stored for `pid`, live snapshot or saved, if any. */
  stored(pid: string): Promise<StoredSession | undefined>;
  /** Runs a command on the store's own connection (Redis only). */
  command?(args: (string | Buffer)[]): Promise<unknown>;
  /** Between tests: close the nodes' connections, empty the store. */
  reset(): Promise<void>;
  tearDown(): Promise<void>;
}

function redisFixture(): Fixture {
  let broker: Broker;
  let redis: TestRedisClient;
  const clients: TestRedisClient[] = [];
  return {
    name: "redis streams",
    binary: "redis-server",
    async setUp() {
      broker = await startRedisServer();
      redis = await redisClient(broker.url);
    },
    async node(opts) {
      const client = await redisClient(broker.url);
      clients.push(client);
      const adapter = createRedisStreamsAdapter(client, { ...opts, onError: () => {} });
      return started(adapter, async () => void client.destroy());
    },
    async stored(pid) {
      const key = `switchboard:session:${pid}`;
      const bytes = await redis.sendCommand(["GET", key], { typeMapping: { 36: Buffer } } as never);
      return bytes instanceof Uint8Array ? decodeSession(bytes) : undefined;
    },
    command: (args) => redis.sendCommand(args),
    async reset() {
      await Promise.allSettled(clients.splice(0).map((c) => (c.isOpen ? c.close() : undefined)));
      await redis.flushAll();
    },
    async tearDown() {
      await redis?.close();
      await broker?.close();
    },
  };
}

function jetStreamFixture(): Fixture {
  let broker: Broker;
  const connections: Awaited<ReturnType<typeof natsConnection>>[] = [];
  let stream = 0; // fresh streams (and subjects) per test
  return {
    name: "nats jetstream",
    binary: "nats-server",
    async setUp() {
      broker = await startNatsServer({ jetstream: true });
    },
    async node(opts) {
      const nc = await natsConnection(broker.url);
      connections.push(nc);
      const adapter = createNatsJetStreamAdapter(nc, jetstream(nc), await jetstreamManager(nc), {
        ...opts,
        streamName: `SNAP${stream}`,
        prefix: `snap${stream}`,
        onError: () => {},
      });
      return started(adapter, () => nc.close());
    },
    async stored(pid) {
      const nc = connections[0]!;
      const jsm = await jetstreamManager(nc);
      const found = await jsm.streams
        .getMessage(`SNAP${stream}_SESSIONS`, { last_by_subj: `snap${stream}.session.${pid}` })
        .catch(() => null);
      return found === null ? undefined : decodeSession(found.data);
    },
    async reset() {
      stream++;
      await Promise.allSettled(connections.splice(0).map((nc) => nc.close()));
    },
    async tearDown() {
      await broker?.close();
    },
  };
}

/** The store's connection as the adapter sees it (Redis only). */
function redisOf(fixture: Fixture): RedisStreamsClient {
  return {
    sendCommand: (args: (string | Buffer)[]) => fixture.command!(args),
  } as RedisStreamsClient;
}

/** A server on `adapter` whose sockets join "room" unless recovered. */
async function started(
  adapter: NonNullable<ServerOptions["adapter"]>,
  cutOff: () => Promise<void>,
): Promise<Node> {
  const server = await startServer({
    adapter,
    connectionStateRecovery: { maxDisconnectionDuration: 60_000 },
  });
  server.io.on("connection", (socket) => {
    if (!socket.recovered) socket.join("room");
  });
  const nodeAdapter = server.io.sockets.adapter as unknown as NatsJetStreamAdapter;
  await waitUntil(() => nodeAdapter.lastOffset() !== undefined, "reader started");
  return { server, adapter: nodeAdapter, cutOff };
}

/** A raw connection joined to `/`, presenting `auth` (a pid and offset) to recover. */
async function join(port: number, auth?: { pid: string; offset?: string }) {
  const raw: RawClient = await rawClient(port);
  raw.ws.send(`40${auth === undefined ? "" : JSON.stringify(auth)}`);
  const frame = await raw.next((f) => f.startsWith("40{"), 0, 8000);
  const { sid, pid } = JSON.parse(frame.slice(2)) as { sid: string; pid: string };
  return { raw, sid, pid };
}

const nextSocket = (server: TestServer): Promise<Socket> =>
  new Promise((resolve) => server.io.once("connection", resolve));

for (const fixture of [redisFixture(), jetStreamFixture()]) {
  const skip = missingBinary(fixture.binary);
  describe(`${fixture.name}: live session snapshots`, {
    skip: skip ?? false,
    timeout: 20_000,
  }, () => {
    const servers: TestServer[] = [];
    const node = async (opts: NodeOptions = {}) => {
      const created = await fixture.node(opts);
      servers.push(created.server);
      return created;
    };
    const written = (pid: string) =>
      waitUntil(async () => (await fixture.stored(pid)) !== undefined, "snapshot written");

    before(() => fixture.setUp());
    after(() => fixture.tearDown());
    afterEach(async () => {
      closeRawClients();
      await Promise.allSettled(servers.splice(0).map((server) => server.close()));
      await fixture.reset();
    });

    test("a connected socket's session is stored with the rooms its listeners joined, and later joins", async () => {
      const { server, adapter } = await node();
      const connected = nextSocket(server);
      const a = await join(server.port);
      const socket = await connected;
      await written(a.pid);
      const first = await fixture.stored(a.pid);
      assert.equal(first?.live, true);
      assert.equal(first?.node, adapter.uid);
      assert.equal(first?.sid, a.sid);
      assert.deepEqual(new Set(first?.rooms), new Set([a.sid, "room"]));
      socket.data = { user: "ada" };
      socket.join("blue");
      await waitUntil(
        async () => (await fixture.stored(a.pid))?.rooms.includes("blue") === true,
        "join written",
      );
      assert.deepEqual((await fixture.stored(a.pid))?.data, { user: "ada" });
    });

    test("a socket that leaves on purpose leaves nothing; a cut one leaves its saved session", async () => {
      const { server } = await node();
      const a = await join(server.port);
      const b = await join(server.port);
      await written(a.pid);
      await written(b.pid);
      a.raw.ws.send("41"); // namespace disconnect: on purpose
      b.raw.ws.terminate(); // connection lost: recoverable
      await waitUntil(async () => (await fixture.stored(a.pid)) === undefined, "snapshot removed");
      await waitUntil(async () => (await fixture.stored(b.pid))?.live !== true, "session saved");
      assert.equal((await fixture.stored(b.pid))?.sid, b.sid);
      const back = await join(server.port, { pid: a.pid });
      assert.notEqual(back.sid, a.sid, "nothing to recover");
    });

    test("a session whose node still holds the socket is not restored on another node", async () => {
      const nodeA = await node();
      const nodeB = await node();
      await waitUntil(() => nodeB.adapter.isLiveNode(nodeA.adapter.uid), "B knows A");
      const heldOnA = nextSocket(nodeA.server);
      const a = await join(nodeA.server.port);
      const socket = await heldOnA;
      await written(a.pid);
      // The client comes back on B while A still has its connection (A has not noticed yet).
      const onB = await join(nodeB.server.port, { pid: a.pid });
      assert.notEqual(onB.sid, a.sid, "not recovered: the session would fork");
      assert.equal(socket.connected, true);
      assert.equal((await fixture.stored(a.pid))?.live, true, "the snapshot is back for A");
      // A's connection dies now: its session is saved and recovers anywhere.
      const gone = waitFor(socket, "disconnect");
      a.raw.ws.terminate();
      await gone;
      await waitUntil(async () => (await fixture.stored(a.pid))?.live !== true, "session saved");
      const back = await join(nodeB.server.port, { pid: a.pid });
      assert.equal(back.sid, a.sid);
    });

    test("the clients of a node that died are recovered on another node, with what they missed", async () => {
      const nodeA = await node();
      const nodeB = await node({ requestsTimeout: 500 });
      await waitUntil(() => nodeB.adapter.isLiveNode(nodeA.adapter.uid), "B knows A");
      const a = await join(nodeA.server.port);
      nodeB.server.io.to("room").emit("m", 1);
      const first = await a.raw.next((f) => f.startsWith('42["m",1,'));
      const offset = (JSON.parse(first.slice(2)) as string[])[2]!;
      await written(a.pid);
      // A dies: no broker connection any more (nothing saved), then its client loses it.
      await nodeA.cutOff();
      a.raw.ws.terminate();
      nodeB.server.io.to("room").emit("m", 2);
      nodeB.server.io.to("room").emit("m", 3);
      // B still counts A alive (heartbeat timeout not reached): it asks, A cannot answer.
      const started = Date.now();
      const back = await join(nodeB.server.port, { pid: a.pid, offset });
      assert.equal(back.sid, a.sid, "recovered");
      assert.ok(Date.now() - started >= 400, "waited for A's answer");
      await back.raw.next((f) => f.startsWith('42["m",3,'));
      const missed = back.raw.frames.filter((f) => typeof f === "string" && f.startsWith('42["m"'));
      assert.deepEqual(
        missed.map((f) => JSON.parse(f.toString().slice(2))[1]),
        [2, 3],
      );
    });

    test("a session taken by a node that died before writing its copy is still recovered", {
      skip: fixture.command === undefined ? "claims are Redis-only" : false,
    }, async () => {
      const { server, adapter } = await node({ heartbeatInterval: 150 });
      const pid = "taken-by-a-dead-node";
      const session = {
        sid: "s-dead",
        pid,
        rooms: ["s-dead", "room"],
        data: { user: "ada" },
        startOffset: adapter.lastOffset(),
        node: "0000dead",
      };
      const key = `switchboard:session:${pid}`;
      await fixture.command!(["SET", key, encodeSession(session)]);
      // What the dead node did: claim, take (GETDEL), then nothing (no copy, no release).
      await new SessionClaims(redisOf(fixture), "switchboard:session:", "0000dead", 60_000).claim(
        pid,
      );
      await fixture.command!(["GETDEL", key]);
      server.io.to("room").emit("m", 1);
      const back = await join(server.port, { pid });
      assert.equal(back.sid, "s-dead", "recovered from the claim");
      await back.raw.next((f) => f.startsWith('42["m",1,'));
      assert.equal(await fixture.command!(["EXISTS", `${key}:claim`, `${key}:claimant`]), 0);
    });
  });
}
