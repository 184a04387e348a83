// Polling without sticky sessions: three Switchboard nodes on a real broker (each Redis and
// NATS mode) behind a round-robin HTTP balancer with no affinity. A polling request that
// reaches a node which does not hold its session is forwarded through the adapter to the
// node that does. Includes the control run: with session ids that do not name their node,
// the same balancer breaks every polling client (so these tests can fail).
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, afterEach, before, describe, test } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { io as sbio } from "../src/client/index.js";
import { randomId } from "../src/engine/index.js";
import type { ServerOptions } from "../src/server/index.js";
import { missingBinary } from "./cluster/brokers.js";
import {
  type AdapterFixture,
  type ClusterNode,
  startCluster,
  TIMING,
  waitUntil,
} from "./cluster/cluster-harness.js";
import { createNatsFixture } from "./cluster/nats-fixture.js";
import { createNatsJetStreamFixture } from "./cluster/nats-jetstream-fixture.js";
import { createRedisFixture } from "./cluster/redis-fixture.js";
import { createShardedFixture } from "./cluster/redis-sharded-fixture.js";
import { createRedisStreamsFixture } from "./cluster/redis-streams-fixture.js";
import { type Balancer, startRoundRobinBalancer } from "./cluster/round-robin-balancer.js";
import { connected, waitFor } from "./support/harness.js";

const PATH = "/socket.io/?EIO=4&transport=polling";

/** Raw HTTP to one node: status and body. `signal` aborts the request. */
function http(
  url: string,
  method = "GET",
  body?: string,
  signal?: AbortSignal,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, signal, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Opens an Engine.IO session directly on `node`; returns its sid. */
async function handshake(node: ClusterNode): Promise<string> {
  const res = await http(`${node.server.url}${PATH}`);
  const open = JSON.parse(res.body.slice(1)) as { sid: string };
  return open.sid;
}

function suite(name: string, skip: string | undefined, create: () => Promise<AdapterFixture>) {
  describe(`no sticky sessions (${name})`, { skip: skip ?? false }, () => {
    let fixture: AdapterFixture;
    let nodes: ClusterNode[] = [];
    let balancer: Balancer | undefined;
    const clients: { disconnect(): unknown }[] = [];

    before(async () => {
      fixture = await create();
    });
    after(() => fixture?.close());
    afterEach(async () => {
      for (const client of clients.splice(0)) client.disconnect();
      await balancer?.close();
      balancer = undefined;
      await Promise.all(nodes.map((node) => node.close()));
      nodes = [];
    });

    async function cluster(serverOptions: ServerOptions = {}): Promise<Balancer> {
      nodes = await startCluster(fixture, ["n0", "n1", "n2"], TIMING, serverOptions);
      for (const node of nodes) {
        node.io.on("connection", (socket) => {
          socket.on("echo", (value: unknown, ack: (v: unknown) => void) => ack(value));
        });
      }
      balancer = await startRoundRobinBalancer(nodes.map((node) => node.server.port));
      return balancer;
    }

    function official(url: string, transports: string[], rooms: string[] = []): ClientSocket {
      const client = ioc(url, {
        forceNew: true,
        reconnection: false,
        transports,
        auth: { name: "c", rooms },
      });
      clients.push(client);
      return client;
    }

    test("socket.io-client over polling: acks, pushes and broadcasts from every node", async () => {
      const lb = await cluster();
      const client = official(lb.url, ["polling"], ["room"]);
      await connected(client);
      for (let i = 0; i < 20; i++) assert.equal(await client.emitWithAck("echo", i), i);
      const got: number[] = [];
      client.on("news", (n: number) => got.push(n));
      for (const [i, node] of nodes.entries()) node.io.to("room").emit("news", i);
      await waitUntil(() => got.length === 3, "the client got one broadcast from each node");
      assert.deepEqual(got.sort(), [0, 1, 2]);
      // One session in the whole cluster, on the node its id names; every node served requests.
      const holders = nodes.filter((node) => node.io.engine.clientsCount === 1);
      assert.equal(holders.length, 1);
      assert.equal(
        nodes.reduce((sum, node) => sum + node.io.engine.clientsCount, 0),
        1,
      );
      const sid = client.io.engine.id ?? "";
      assert.ok(holders[0]?.io.engine.clients.has(sid));
      assert.ok(
        lb.requests.every((count) => count >= 5),
        `requests: ${lb.requests.join(",")}`,
      );
      assert.equal(client.connected, true);
    });

    test("socket.io-client with upgrade: every client works, on polling or WebSocket", async () => {
      const lb = await cluster();
      const all = Array.from({ length: 6 }, () => official(lb.url, ["polling", "websocket"]));
      await Promise.all(all.map((client) => connected(client)));
      // Let upgrades land (on the holder: upgraded; elsewhere: refused, stays on polling).
      await waitUntil(() => lb.upgrades.reduce((a, b) => a + b, 0) >= all.length, "upgrades");
      for (const client of all) {
        for (let i = 0; i < 5; i++) assert.equal(await client.emitWithAck("echo", i), i);
        assert.equal(client.connected, true);
      }
      const total = nodes.reduce((sum, node) => sum + node.io.engine.clientsCount, 0);
      assert.equal(total, all.length);
    });

    test("Switchboard's own client over polling", async () => {
      const lb = await cluster();
      const client = sbio(lb.url, {
        forceNew: true,
        reconnection: false,
        transports: ["polling"],
        auth: { name: "sb", rooms: ["room"] },
      });
      clients.push(client);
      await waitFor(client, "connect");
      for (let i = 0; i < 10; i++) assert.equal(await client.emitWithAck("echo", i), i);
      const got: number[] = [];
      client.on("news", (n: number) => got.push(n));
      for (const [i, node] of nodes.entries()) node.io.to("room").emit("news", i);
      await waitUntil(() => got.length === 3, "one broadcast from each node");
      assert.ok(
        lb.requests.every((count) => count >= 3),
        `requests: ${lb.requests.join(",")}`,
      );
    });

    test("control: session ids that do not name their node break polling behind the balancer", async () => {
      const lb = await cluster({ generateId: () => randomId() });
      const client = official(lb.url, ["polling"]);
      const [err] = await waitFor<[Error]>(client, "connect_error");
      // The first request after the handshake reaches another node: "Session ID unknown".
      assert.match(err.message, /xhr (poll|post) error/);
    });

    test("a POST forwarded to the holder delivers its packets; too large: 413 and the session closes", async () => {
      await cluster({ maxHttpBufferSize: 1000 });
      const [holder, other] = [nodes[0], nodes[1]] as [ClusterNode, ClusterNode];
      const sid = await handshake(holder);
      const session = holder.io.engine.clients.get(sid);
      assert.ok(session);
      const message = waitFor(session, "message");
      const posted = await http(`${other.server.url}${PATH}&sid=${sid}`, "POST", "4hello");
      assert.deepEqual(posted, { status: 200, body: "ok" });
      assert.deepEqual(await message, ["hello"]);
      const closed = waitFor(session, "close");
      const big = await http(
        `${other.server.url}${PATH}&sid=${sid}`,
        "POST",
        `4${"x".repeat(2000)}`,
      );
      assert.equal(big.status, 413);
      assert.equal((await closed)[0], "transport error");
    });

    test("a GET abandoned at the receiving node ends the session on the holder, as a closed GET would", async () => {
      await cluster();
      const [holder, other] = [nodes[0], nodes[1]] as [ClusterNode, ClusterNode];
      const sid = await handshake(holder);
      const session = holder.io.engine.clients.get(sid);
      assert.ok(session);
      const closed = waitFor(session, "close");
      const abort = new AbortController();
      const poll = http(`${other.server.url}${PATH}&sid=${sid}`, "GET", undefined, abort.signal);
      poll.catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 200));
      abort.abort();
      assert.equal((await closed)[0], "transport error");
    });

    test("holder gone: the receiving node answers 400 'Session ID unknown' without waiting", async () => {
      await cluster();
      const [holder, other] = [nodes[0], nodes[1]] as [ClusterNode, ClusterNode];
      const sid = await handshake(holder);
      await holder.close(); // ADAPTER_CLOSE: the others forget it at once
      await waitUntil(async () => (await other.io.of("/").adapter.serverCount()) === 2, "n0 gone");
      const started = Date.now();
      const res = await http(`${other.server.url}${PATH}&sid=${sid}`);
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), { code: 1, message: "Session ID unknown" });
      assert.ok(Date.now() - started < 1000);
    });

    test("holder dead without a goodbye: a pending forwarded GET fails once it is declared gone", async () => {
      await cluster();
      const [holder, other] = [nodes[0], nodes[1]] as [ClusterNode, ClusterNode];
      const sid = await handshake(holder);
      const started = Date.now();
      const pending = http(`${other.server.url}${PATH}&sid=${sid}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await holder.kill(); // cut off the broker: no ADAPTER_CLOSE
      const res = await pending;
      assert.equal(res.status, 400);
      // Within the heartbeat timeout, not the request's (pingInterval + pingTimeout = 45 s).
      assert.ok(
        Date.now() - started < TIMING.heartbeatTimeout + 1500,
        `${Date.now() - started} ms`,
      );
    });
  });
}

const noRedis = missingBinary("redis-server");
const noNats = missingBinary("nats-server");
suite("redis pub/sub", noRedis, createRedisFixture);
suite("redis sharded", noRedis, () => createShardedFixture());
suite("redis streams", noRedis, () => createRedisStreamsFixture());
suite("nats", noNats, createNatsFixture);
suite("nats jetstream", noNats, () => createNatsJetStreamFixture());
