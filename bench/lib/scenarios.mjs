// Scenario definitions. Each scenario run starts a fresh server child for one
// contestant, one or more load-generator children, measures, and tears both
// down (server first, so the clients are the passive closers and their
// ephemeral ports do not pile up in TIME_WAIT).
//
// A scenario is { id, title, perMode, metrics, describe, run(ctx) }:
//   metrics: [{ key, label, better, title? }] (or a function of the params);
//            `title` overrides the row's scenario name in the report.
//   transport: 'websocket' (default) or 'polling': servers and clients use only that
//            transport; only contestants whose client meta lists it take part.
//   run(ctx) gets { name, mode, params, transport } and returns an object with a
//            number per metric key (plus anything else, kept in the JSON).
import { fileURLToPath } from "node:url";
import { cpuSeconds, pinToCpu, rssKB, sleep, startChild, systemCpu } from "./proc.mjs";

const SERVER_HOST = fileURLToPath(new URL("./server-host.mjs", import.meta.url));
const LOADGEN = fileURLToPath(new URL("./loadgen.mjs", import.meta.url));

// Keep ws on its pure-JS paths everywhere (same for every contestant using ws),
// whether or not bufferutil / utf-8-validate happen to be installed.
const CHILD_ENV = { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" };

// BENCH_CPU_PROF=<dir>: every server host writes a V8 CPU profile (node --cpu-prof) into
// <dir> when it stops, to explain a figure (open it in Chrome DevTools or summarise it with
// bench/profile/top-functions.mjs). Profiling slows the server: never publish such a run.
const CPU_PROF = process.env.BENCH_CPU_PROF
  ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
  : [];

/** Forks a server host for contestant `name` on `transport`; resolves once it listens. */
export async function startServer(name, transport = "websocket") {
  return startChild(SERVER_HOST, [name, transport], {
    execArgv: ["--expose-gc", ...CPU_PROF],
    env: CHILD_ENV,
    label: `server:${name}`,
  });
}

async function startGens(name, mode, port, count, transport = "websocket") {
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startChild(LOADGEN, [name, mode, String(port), transport], {
        env: CHILD_ENV,
        label: `loadgen${i}:${name}:${mode}`,
      }),
    ),
  );
}

const safeCpu = (pid) => {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
};

/**
 * Opens `p.n` connections from `gen` (`p.concurrency` handshakes in flight): connections/s,
 * and the server's CPU per handshake by its own reading (/proc counts 10 ms ticks, 10 us
 * per connection here).
 */
async function connectRound(server, gen, p) {
  const cpu0 = await server.rpc("cpu", {});
  const c = await gen.rpc(
    "connect",
    { n: p.n, concurrency: p.concurrency, timeoutMs: 60_000 },
    70_000,
  );
  const cpu1 = await server.rpc("cpu", {});
  assertAll([c], p.n, "connect");
  const srvCpuUs = cpu1.user + cpu1.system - cpu0.user - cpu0.system;
  return { cps: (c.ok / c.ms) * 1000, srvCpuUs: srvCpuUs / c.ok, raw: c };
}

/** Closes every connection of `gen` and waits (up to 10 s) until the server has none left. */
async function closeAll(server, gen) {
  await gen.rpc("close", {});
  for (let i = 0; i < 400 && (await server.rpc("connections", {})) !== 0; i++) await sleep(25);
}

/**
 * Run fn(server, gens) with a fresh server and `gens` generators; always tears
 * down. Adds `_env` to the result: CPU used on this box by processes other than
 * ours during the run (a noise indicator), and the machine's idle share.
 */
async function session(ctx, gens, fn) {
  const server = await startServer(ctx.name, ctx.transport);
  let generators = [];
  try {
    generators = await startGens(ctx.name, ctx.mode, server.ready.port, gens, ctx.transport);
    const pids = [server.pid, ...generators.map((g) => g.pid)];
    const ours0 = pids.reduce((a, pid) => a + safeCpu(pid), 0);
    const sys0 = systemCpu();
    const t0 = Date.now();
    const result = await fn(server, generators);
    const wall = (Date.now() - t0) / 1000;
    const ours = pids.reduce((a, pid) => a + safeCpu(pid), 0) - ours0;
    const sys1 = systemCpu();
    const d = (k) => sys1[k] - sys0[k];
    const total = d("user") + d("system") + d("softirq") + d("steal") + d("idle");
    result._env = {
      wallS: wall,
      foreignCores: Math.max(0, (d("user") + d("system") - ours) / wall),
      softirqCores: d("softirq") / wall,
      idlePct: total > 0 ? (d("idle") / total) * 100 : NaN,
    };
    return result;
  } finally {
    await stopServer(server);
    await Promise.all(generators.map((g) => g.kill()));
  }
}

/** Stops a server host from {@link startServer}, letting a profiled one write its profile. */
export async function stopServer(server) {
  // A profiled server must exit by itself to write its profile (SIGKILL would lose it).
  if (CPU_PROF.length > 0) {
    await server.rpc("stop", {}, 5000).catch(() => {});
    for (let i = 0; i < 100 && !server.exited; i++) await sleep(50);
  }
  await server.kill();
}

/** Split n into `parts` near-equal integers. */
const split = (n, parts) =>
  Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));

function assertAll(results, want, what) {
  const ok = results.reduce((a, r) => a + r.ok, 0);
  if (ok !== want) {
    const err = results.find((r) => r.firstError)?.firstError;
    throw new Error(`${what}: ${ok} of ${want} succeeded (first error: ${err})`);
  }
}

/**
 * Fan-out measurement on already connected clients that have joined `room`:
 * the server sends `messages` broadcasts; deliveries/s = clients * messages /
 * (time the last client got its last message - time the first send started).
 */
async function measureBroadcast(
  server,
  gens,
  { clients, room, messages, bytes, timeoutMs, yieldEvery, pauseMs },
) {
  await Promise.all(gens.map((g) => g.rpc("armBroadcast", { count: messages })));
  await sleep(pauseMs);
  const waits = gens.map((g) => g.rpc("awaitBroadcast", { timeoutMs }, timeoutMs + 10_000));
  for (const w of waits) w.catch(() => {}); // if the send fails first, teardown rejects these: not unhandled
  const cpu0 = safeCpu(server.pid);
  const send = await server.rpc(
    "broadcast",
    { room, count: messages, bytes, yieldEvery },
    timeoutMs,
  );
  const got = await Promise.all(waits);
  const srvCpu = safeCpu(server.pid) - cpu0;
  const received = got.reduce((a, g) => a + g.received, 0);
  const expected = clients * messages;
  if (received !== expected)
    throw new Error(`broadcast: ${received} of ${expected} deliveries within ${timeoutMs} ms`);
  const tLast = Math.max(...got.map((g) => g.tLast));
  return {
    dps: (expected / (tLast - send.t0)) * 1000,
    srvCpuUs: (srvCpu / expected) * 1e6,
    sendMs: send.t1 - send.t0,
    ms: tLast - send.t0,
  };
}

/**
 * Closed-loop echo on `p.clients` connections of one client process (on ctx.transport);
 * server CPU is sampled at the load generator's start/end marks.
 */
async function runEcho(ctx) {
  const p = ctx.params;
  return session(ctx, 1, async (server, [gen]) => {
    const c = await gen.rpc(
      "connect",
      { n: p.clients, concurrency: 50, timeoutMs: 30_000 },
      40_000,
    );
    assertAll([c], p.clients, `${ctx.transport} echo connect`);
    const marks = {};
    const off = gen.onMessage((m) => {
      if (m?.type === "mark") marks[m.name] = safeCpu(server.pid);
    });
    const r = await gen.rpc("echo", p, p.warmupMs + p.durationMs + 15_000);
    off();
    if (r.count === 0)
      throw new Error(`${ctx.transport} echo: no round trip completed in ${p.durationMs} ms`);
    const srvCpu = marks.end - marks.start;
    return {
      rps: (r.count / r.ms) * 1000,
      srvCpuUs: (srvCpu / r.count) * 1e6,
      srvCpuPct: (srvCpu / (r.ms / 1000)) * 100,
      genCpuPct: (r.genCpuSec / (r.ms / 1000)) * 100,
      raw: r,
    };
  });
}

/**
 * Preflight: one connection, a join and a few echo round trips against a fresh server.
 * Throws (with the first error) if the contestant cannot do that.
 */
export async function smokeTest(name, mode) {
  const ctx = { name, mode, transport: "websocket" };
  return session(ctx, 1, async (_server, [gen]) => {
    const c = await gen.rpc("connect", { n: 1, room: "smoke", timeoutMs: 10_000 }, 15_000);
    assertAll([c], 1, "smoke connect+join");
    await gen.rpc("latency", { n: 5, warmup: 1, bytes: 100, timeoutMs: 5000 }, 10_000);
    return {};
  });
}

/** Send patterns for fan-out: yield to the event loop after every message, or none at all. */
const PATTERNS = { paced: 1, burst: 0 };

const broadcastMetrics = (title, prefix = "") => [
  { key: `${prefix}dps`, label: "deliveries/s", better: "higher", title },
  { key: `${prefix}srvCpuUs`, label: "server CPU us / delivery", better: "lower", title },
  { key: `${prefix}sendMs`, label: "server send loop ms", better: "info", title },
];

const ECHO_METRICS = [
  { key: "rps", label: "round trips/s", better: "higher" },
  { key: "srvCpuUs", label: "server CPU us / round trip", better: "lower" },
  { key: "srvCpuPct", label: "server CPU % of one core", better: "info" },
  { key: "genCpuPct", label: "client proc CPU % of one core", better: "info" },
];

const prefixKeys = (obj, prefix) =>
  Object.fromEntries(Object.entries(obj).map(([k, v]) => [`${prefix}${k}`, v]));

export const scenarios = [
  {
    id: "echo",
    title: "echo-throughput",
    perMode: true,
    describe: (p) =>
      `${p.clients} clients x ${p.window} round trips in flight, ${p.bytes} B JSON payload, ${p.warmupMs} ms warm-up then ${p.durationMs / 1000} s measured, 1 client process`,
    metrics: ECHO_METRICS,
    run: runEcho,
  },
  {
    id: "broadcast",
    title: "broadcast-fanout",
    perMode: false,
    describe: (p) =>
      `${p.clients} clients joined to 1 room (${p.gens} client processes); the server sends ${p.messages} messages of ~${p.bytes} B to the room, ` +
      `first "paced" (yielding to the event loop with setImmediate after every message, like a server relaying separate events), ` +
      `then, on the same connections, as one synchronous "burst"${p.patterns.length < 2 ? ` (run here: ${p.patterns.join(", ")} only)` : ""}; ` +
      `deliveries/s = clients x messages / (last client's last message - first send)`,
    metrics: (p) =>
      p.patterns.flatMap((pattern) =>
        broadcastMetrics(
          `broadcast-fanout (${p.clients} clients x ${p.messages} msgs, ${pattern})`,
          `${pattern}_`,
        ),
      ),
    async run(ctx) {
      const p = ctx.params;
      return session(ctx, p.gens, async (server, gens) => {
        const parts = split(p.clients, gens.length);
        const conn = await Promise.all(
          gens.map((g, i) =>
            g.rpc(
              "connect",
              { n: parts[i], concurrency: 100, room: "bench", timeoutMs: 90_000 },
              100_000,
            ),
          ),
        );
        assertAll(conn, p.clients, "broadcast connect+join");
        const out = {};
        for (const pattern of p.patterns) {
          const r = await measureBroadcast(server, gens, {
            ...p,
            room: "bench",
            yieldEvery: PATTERNS[pattern],
          });
          Object.assign(out, prefixKeys(r, `${pattern}_`));
          await sleep(p.pauseMs);
        }
        return out;
      });
    },
  },
  {
    id: "memory",
    title: "idle-memory",
    perMode: false,
    describe: (p) =>
      `server RSS (/proc/PID/VmRSS) after forced GC (--expose-gc), 0 vs ${p.steps.join(" vs ")} idle connections (${p.gens} client processes); KB/conn = RSS delta / conns` +
      (p.fanout
        ? `; then all ${Math.max(...p.steps)} clients join 1 room and the server sends ${p.fanout.messages} messages of ~${p.fanout.bytes} B, ${p.fanout.pattern} (fan-out at that size, reusing the connections)`
        : ""),
    metrics: (p) => {
      const big = Math.max(...p.steps);
      return [
        { key: "rss0MB", label: "server RSS with 0 conns (MB)", better: "lower" },
        ...p.steps.flatMap((n) => [
          { key: `kb${n}`, label: `RSS KB / conn @ ${n} conns`, better: "lower" },
          { key: `heapKb${n}`, label: `JS heap KB / conn @ ${n} conns`, better: "lower" },
        ]),
        ...(p.fanout
          ? broadcastMetrics(
              `broadcast-fanout (${big} clients x ${p.fanout.messages} msgs, ${p.fanout.pattern})`,
            )
          : []),
      ];
    },
    async run(ctx) {
      const p = ctx.params;
      return session(ctx, p.gens, async (server, gens) => {
        await sleep(p.pauseMs);
        const heap0 = (await server.rpc("gc")).heapUsed;
        await sleep(p.pauseMs);
        const rss0 = rssKB(server.pid);
        const out = { rss0MB: rss0 / 1024 };
        let have = 0;
        for (const n of p.steps) {
          const parts = split(n - have, gens.length);
          const conn = await Promise.all(
            gens.map((g, i) =>
              g.rpc("connect", { n: parts[i], concurrency: 100, timeoutMs: 90_000 }, 100_000),
            ),
          );
          assertAll(conn, n - have, "memory connect");
          have = n;
          const count = await server.rpc("connections");
          if (count !== n)
            throw new Error(`memory: server reports ${count} connections, expected ${n}`);
          await sleep(p.pauseMs);
          const heap = (await server.rpc("gc")).heapUsed;
          await sleep(p.pauseMs);
          const rss = rssKB(server.pid);
          out[`kb${n}`] = (rss - rss0) / n;
          out[`heapKb${n}`] = (heap - heap0) / 1024 / n;
          out[`rss${n}MB`] = rss / 1024;
        }
        if (p.fanout) {
          const joined = await Promise.all(
            gens.map((g) => g.rpc("joinAll", { room: "bench", timeoutMs: 60_000 }, 70_000)),
          );
          assertAll(joined, have, "memory join");
          const yieldEvery = PATTERNS[p.fanout.pattern];
          Object.assign(
            out,
            await measureBroadcast(server, gens, {
              ...p.fanout,
              clients: have,
              room: "bench",
              yieldEvery,
              pauseMs: p.pauseMs,
            }),
          );
        }
        return out;
      });
    },
  },
  {
    id: "connect",
    title: "connect-rate",
    perMode: false,
    describe: (p) =>
      `${p.n} connections opened from 1 client process, ${p.concurrency} handshakes in flight; done = ws 'open' / Socket.IO 'connect' event. The first ${p.n} to a fresh server are the measured rows; "warm" is the server's CPU for ${p.n} more after ${p.warmRounds} rounds of ${p.n} opened and closed on the same server and client processes`,
    metrics: [
      { key: "cps", label: "connections/s", better: "higher" },
      { key: "srvCpuUs", label: "server CPU us / connection", better: "lower" },
      { key: "srvCpuUsWarm", label: "server CPU us / connection, warm", better: "lower" },
    ],
    async run(ctx) {
      const p = ctx.params;
      return session(ctx, 1, async (server, [gen]) => {
        const out = await connectRound(server, gen, p);
        if (!(p.warmRounds > 0)) return out;
        for (let round = 0; round < p.warmRounds; round++) {
          await closeAll(server, gen);
          await connectRound(server, gen, p);
        }
        await closeAll(server, gen);
        out.srvCpuUsWarm = (await connectRound(server, gen, p)).srvCpuUs;
        return out;
      });
    },
  },
  {
    id: "latency",
    title: "latency",
    perMode: true,
    // Unpinned, a run's p50 was bimodal on the 2-core VM (~40 or ~90 us for the same code,
    // uWebSockets.js mostly in the slow mode): with the two processes on two cores, each
    // message waits for an idle core to wake (the guest's haltpoll governor halts at once).
    // Both processes on one core measure the software's path instead. Runs are short and
    // still vary a little: 3 per repetition.
    runsPerRep: 3,
    // The warm round trips are steadier: measured in the first run of each repetition only.
    laterRuns: { warmRoundTrips: 0 },
    describe: (p) =>
      `1 client, ${p.n} sequential round trips after ${p.warmup} warm-up ones, ${p.bytes} B JSON payload, a fresh server and client per run, both pinned to CPU 0 once connected (taskset, so that no message waits for an idle core to wake up), 3 runs per repetition (1 with --quick), the median taken over all runs. The p50 and p99 rows are those round trips (code V8 has mostly not optimised yet); "warm" is ${p.n} more on the same connection after ${p.warmRoundTrips} more unmeasured ones, in the first run of each repetition`,
    metrics: [
      { key: "p50", label: "p50 us", better: "lower" },
      { key: "p99", label: "p99 us", better: "lower" },
      { key: "p50Warm", label: "p50 us, warm", better: "lower" },
    ],
    async run(ctx) {
      const p = ctx.params;
      return session(ctx, 1, async (server, [gen]) => {
        const c = await gen.rpc("connect", { n: 1 });
        assertAll([c], 1, "latency connect");
        const isPinned = pinToCpu(server.pid, 0) && pinToCpu(gen.pid, 0);
        const r = await gen.rpc("latency", p, 40_000);
        return { p50: r.p50, p99: r.p99, p50Warm: r.warm?.p50, isPinned, raw: r };
      });
    },
  },
  {
    id: "polling",
    title: "polling-echo",
    transport: "polling",
    perMode: false,
    describe: (p) =>
      `HTTP long-polling only (transports: ['polling'] on server and client): ${p.clients} clients x ${p.window} round trips in flight (ack), ${p.bytes} B JSON payload, ${p.warmupMs} ms warm-up then ${p.durationMs / 1000} s measured, 1 client process; only contestants with a polling transport (ws and uws have none), so ratios are against socketio`,
    metrics: ECHO_METRICS,
    run: runEcho,
  },
];
