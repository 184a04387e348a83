// Scenario "cluster": three server nodes joined through one redis-server, clients spread
// evenly over them in one room, broadcasts sent from node 0. Socket.IO nodes use
// @socket.io/redis-adapter, Switchboard nodes our Redis adapter (same channels, same
// MessagePack format); both with node-redis. One load-generator process per node.
//
// Processes per run: redis-server + 3 nodes + 3 load generators, all on loopback. The
// redis-server is started for the run on a free port (no persistence) and killed after it,
// also when the run fails or the orchestrator exits. A missing redis-server fails the run
// with a clear reason (Debian package redis-server).
import { spawn, spawnSync } from "node:child_process";
import { connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { cpuSeconds, sleep, startChild, systemCpu } from "./proc.mjs";

const NODE = fileURLToPath(new URL("./cluster-node.mjs", import.meta.url));
const LOADGEN = fileURLToPath(new URL("./loadgen.mjs", import.meta.url));
const CHILD_ENV = { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" };
const ROOM = "cluster-room";

/** Defaults, overridable with --set cluster.<key>=<value>. */
export const CLUSTER_DEFAULTS = {
  nodes: 3,
  clients: 3000,
  messages: 50,
  bytes: 100,
  timeoutMs: 60_000,
};

const brokers = new Set();
process.on("exit", () => {
  for (const child of brokers) child.kill("SIGKILL");
});

const safeCpu = (pid) => {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
};

const split = (n, parts) =>
  Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const canConnect = (port) =>
  new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

/** A redis-server on a free loopback port, without persistence; `kill()` stops it. */
async function startRedis() {
  if (spawnSync("sh", ["-c", "command -v redis-server"]).status !== 0)
    throw new Error("redis-server not found on PATH (Debian package redis-server)");
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn("redis-server", args, { stdio: "ignore" });
  brokers.add(child);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const kill = async () => {
    brokers.delete(child);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  };
  for (let i = 0; !(await canConnect(port)); i++) {
    if (i > 250 || child.exitCode !== null) {
      await kill();
      throw new Error(`redis-server did not listen on port ${port}`);
    }
    await sleep(20);
  }
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, kill };
}

/** Polls until every node counts every node (pub/sub subscriptions or heartbeats in place). */
async function waitForCluster(nodes) {
  for (let i = 0; i < 250; i++) {
    const counts = await Promise.all(nodes.map((n) => n.rpc("serverCount")));
    if (counts.every((c) => c === nodes.length)) return;
    await sleep(20);
  }
  throw new Error("the nodes did not see each other within 5 s");
}

/**
 * Node 0 broadcasts `messages` paced messages to the room; deliveries/s = clients x messages
 * / (last client's last message - first send). CPU is summed over the nodes and Redis.
 */
async function measure(nodes, gens, redis, p) {
  const timeoutMs = p.timeoutMs;
  await Promise.all(gens.map((g) => g.rpc("armBroadcast", { count: p.messages })));
  await sleep(p.pauseMs);
  const waits = gens.map((g) => g.rpc("awaitBroadcast", { timeoutMs }, timeoutMs + 10_000));
  for (const w of waits) w.catch(() => {}); // teardown rejects these if the send fails first
  const pids = nodes.map((n) => n.pid);
  const cpu0 = pids.map(safeCpu);
  const redis0 = safeCpu(redis.pid);
  const args = { room: ROOM, count: p.messages, bytes: p.bytes, yieldEvery: 1 };
  const send = await nodes[0].rpc("broadcast", args, timeoutMs);
  const got = await Promise.all(waits);
  const nodeCpu = pids.map((pid, i) => safeCpu(pid) - cpu0[i]);
  const received = got.reduce((a, g) => a + g.received, 0);
  const expected = p.clients * p.messages;
  if (received !== expected)
    throw new Error(`cluster: ${received} of ${expected} deliveries within ${timeoutMs} ms`);
  const ms = Math.max(...got.map((g) => g.tLast)) - send.t0;
  const total = nodeCpu.reduce((a, b) => a + b, 0);
  return {
    dps: (expected / ms) * 1000,
    cpuUs: (total / expected) * 1e6,
    senderCpuUs: (nodeCpu[0] / expected) * 1e6,
    redisCpuMs: (safeCpu(redis.pid) - redis0) * 1000,
    ms,
  };
}

async function runCluster(ctx) {
  const p = { ...CLUSTER_DEFAULTS, ...(ctx.params ?? {}) };
  const redis = await startRedis();
  let nodes = [];
  let gens = [];
  try {
    nodes = await Promise.all(
      Array.from({ length: p.nodes }, (_, i) =>
        startChild(NODE, [ctx.name, redis.url], { env: CHILD_ENV, label: `node${i}:${ctx.name}` }),
      ),
    );
    await waitForCluster(nodes);
    gens = await Promise.all(
      nodes.map((n, i) =>
        startChild(LOADGEN, [ctx.name, ctx.mode, String(n.ready.port), "websocket"], {
          env: CHILD_ENV,
          label: `loadgen${i}:${ctx.name}`,
        }),
      ),
    );
    const parts = split(p.clients, gens.length);
    const conns = await Promise.all(
      gens.map((g, i) =>
        g.rpc("connect", { n: parts[i], concurrency: 50, room: ROOM, timeoutMs: 40_000 }, 50_000),
      ),
    );
    const ok = conns.reduce((a, c) => a + c.ok, 0);
    if (ok !== p.clients) {
      const err = conns.find((c) => c.firstError)?.firstError;
      throw new Error(`cluster connect: ${ok} of ${p.clients} (first error: ${err})`);
    }
    const pids = [redis.pid, ...nodes.map((n) => n.pid), ...gens.map((g) => g.pid)];
    const ours0 = pids.reduce((a, pid) => a + safeCpu(pid), 0);
    const sys0 = systemCpu();
    const t0 = Date.now();
    const result = await measure(nodes, gens, redis, p);
    const wall = (Date.now() - t0) / 1000;
    const ours = pids.reduce((a, pid) => a + safeCpu(pid), 0) - ours0;
    const sys1 = systemCpu();
    const d = (k) => sys1[k] - sys0[k];
    const all = d("user") + d("system") + d("softirq") + d("steal") + d("idle");
    result._env = {
      wallS: wall,
      foreignCores: Math.max(0, (d("user") + d("system") - ours) / wall),
      softirqCores: d("softirq") / wall,
      idlePct: all > 0 ? (d("idle") / all) * 100 : Number.NaN,
    };
    return result;
  } finally {
    // Servers first, so the clients are the passive closers (no TIME_WAIT pile-up).
    await Promise.all(nodes.map((n) => n.kill()));
    await Promise.all(gens.map((g) => g.kill()));
    await redis.kill();
  }
}

/** The scenario, registered in scenarios.mjs. Only contestants with a Redis adapter run it. */
export const clusterScenario = {
  id: "cluster",
  title: "cluster-fanout",
  perMode: false,
  contestants: ["socketio", "switchboard-sioc"],
  describe: (p) => {
    const q = { ...CLUSTER_DEFAULTS, ...(p ?? {}) };
    return (
      `${q.nodes} server processes joined through one redis-server (Socket.IO: @socket.io/redis-adapter; ` +
      `Switchboard: createRedisAdapter, same channels and format; node-redis for both), ${q.clients} clients ` +
      `(socket.io-client) spread evenly over the nodes (one client process per node) in 1 room; node 0 sends ` +
      `${q.messages} messages of ~${q.bytes} B to the room, paced (setImmediate after each); ` +
      `deliveries/s = clients x messages / (last client's last message - first send)`
    );
  },
  metrics: (p) => {
    const q = { ...CLUSTER_DEFAULTS, ...(p ?? {}) };
    const title = `cluster-fanout (${q.nodes} nodes on Redis, ${q.clients} clients x ${q.messages} msgs, paced)`;
    return [
      { key: "dps", label: "deliveries/s", better: "higher", title },
      { key: "cpuUs", label: "all nodes' CPU us / delivery", better: "lower", title },
      { key: "senderCpuUs", label: "sending node CPU us / delivery", better: "lower", title },
      { key: "redisCpuMs", label: "redis-server CPU ms", better: "info", title },
    ];
  },
  run: runCluster,
};
