// Child process that drives clients of one contestant against its server.
//   node lib/loadgen.mjs <contestant> <mode> <port> [transport]
// Loads contestants/<contestant>/client.mjs (or a profile-only one's) and serves orchestrator jobs over
// IPC: connect, echo, armBroadcast, awaitBroadcast, latency, close.
// Every job is bounded by a count and a time limit.
import { send, serveRpc } from "./child.mjs";
import { nowMs } from "./clock.mjs";
import { contestantModule } from "./contestants.mjs";
import { echoPayload } from "./payload.mjs";
import { percentileSorted } from "./stats.mjs";

const [name, mode, portArg, transport = "websocket"] = process.argv.slice(2);
// Loopback only: the benchmark never connects anywhere else.
const host = "127.0.0.1";
const port = Number(portArg);
const driver = await import(contestantModule(name, "client.mjs"));

/** Open connections, in order. */
const conns = [];
/** State of the armed broadcast, if any. */
let broadcastState = null;

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const jobs = {
  /**
   * Open `n` more connections, at most `concurrency` handshakes in flight.
   * With `room`, each connection also joins the room (confirmed by the server).
   */
  async connect({
    n,
    concurrency = 100,
    room = null,
    perConnTimeoutMs = 15_000,
    timeoutMs = 60_000,
  }) {
    const t0 = nowMs();
    const deadline = t0 + timeoutMs;
    let started = 0;
    let ok = 0;
    let failed = 0;
    let firstError = null;
    const worker = async () => {
      while (started < n && nowMs() < deadline) {
        started++;
        try {
          const conn = await withTimeout(
            driver.connect({ host, port, mode, transport }),
            perConnTimeoutMs,
            "connect",
          );
          if (room !== null) await withTimeout(conn.join(room), perConnTimeoutMs, "join");
          conns.push(conn);
          ok++;
        } catch (err) {
          failed++;
          firstError ??= String(err?.message ?? err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    return { ms: nowMs() - t0, ok, failed, firstError, total: conns.length };
  },

  /**
   * Closed-loop echo: every connection keeps `window` round trips in flight.
   * Counts completions during [warmupMs, warmupMs + durationMs], then drains.
   * Sends { type: 'mark', name: 'start' | 'end' } so the parent can sample server CPU.
   */
  async echo({
    window = 10,
    warmupMs = 1000,
    durationMs = 5000,
    bytes = 100,
    drainMs = 3000,
    maxRoundTrips = 20_000_000,
  }) {
    const payload = echoPayload(bytes);
    let running = true;
    let measuring = false;
    let count = 0;
    let total = 0;
    let inflight = 0;
    for (const conn of conns) {
      conn.onEchoReply(() => {
        if (measuring) count++;
        if (++total >= maxRoundTrips) running = false; // hard cap on top of the time limit
        if (running) conn.sendEcho(payload);
        else inflight--;
      });
    }
    for (const conn of conns) {
      for (let i = 0; i < window; i++) {
        inflight++;
        conn.sendEcho(payload);
      }
    }
    await new Promise((r) => setTimeout(r, warmupMs));
    const cpu0 = process.cpuUsage();
    send({ type: "mark", name: "start" });
    const t0 = nowMs();
    measuring = true;
    await new Promise((r) => setTimeout(r, durationMs));
    measuring = false;
    const t1 = nowMs();
    send({ type: "mark", name: "end" });
    const cpu = process.cpuUsage(cpu0);
    running = false;
    const drainDeadline = nowMs() + drainMs;
    while (inflight > 0 && nowMs() < drainDeadline) await new Promise((r) => setTimeout(r, 10));
    for (const conn of conns) conn.onEchoReply(() => {});
    return { count, ms: t1 - t0, genCpuSec: (cpu.user + cpu.system) / 1e6, undrained: inflight };
  },

  /** Make every open connection join `room` (at most `concurrency` joins in flight). */
  async joinAll({ room, concurrency = 100, perConnTimeoutMs = 15_000, timeoutMs = 60_000 }) {
    const t0 = nowMs();
    const deadline = t0 + timeoutMs;
    let next = 0;
    let ok = 0;
    let failed = 0;
    let firstError = null;
    const worker = async () => {
      while (next < conns.length && nowMs() < deadline) {
        const conn = conns[next++];
        try {
          await withTimeout(conn.join(room), perConnTimeoutMs, "join");
          ok++;
        } catch (err) {
          failed++;
          firstError ??= String(err?.message ?? err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, conns.length) }, worker));
    return { ms: nowMs() - t0, ok, failed, firstError };
  },

  /** Start counting room messages; each connection expects `count` of them. */
  armBroadcast({ count }) {
    const state = { expected: count, done: 0, received: 0, tFirst: 0, tLast: 0, resolve: null };
    for (const conn of conns) {
      let got = 0;
      conn.onBroadcast(() => {
        if (state.received++ === 0) state.tFirst = nowMs();
        if (++got === count) {
          state.tLast = nowMs();
          if (++state.done === conns.length) state.resolve?.();
        }
      });
    }
    broadcastState = state;
    return { armed: conns.length };
  },

  /** Resolve when every connection got all messages, or after timeoutMs. */
  async awaitBroadcast({ timeoutMs = 60_000 }) {
    const state = broadcastState;
    if (!state) throw new Error("awaitBroadcast before armBroadcast");
    const cpu0 = process.cpuUsage();
    if (state.done < conns.length) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        state.resolve = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const cpu = process.cpuUsage(cpu0);
    return {
      complete: state.done === conns.length,
      clients: conns.length,
      clientsDone: state.done,
      received: state.received,
      expected: state.expected * conns.length,
      tFirst: state.tFirst,
      tLast: state.tLast,
      genCpuSec: (cpu.user + cpu.system) / 1e6,
    };
  },

  /**
   * Sequential round trips on the first connection: `warmup` unmeasured, then `n` measured;
   * with `warmRoundTrips`, that many more unmeasured and `n` measured again (`warm`).
   * Returns microsecond percentiles.
   */
  async latency({ n = 2000, warmup = 200, warmRoundTrips = 0, bytes = 100, timeoutMs = 30_000 }) {
    const conn = conns[0];
    const payload = echoPayload(bytes);
    const deadline = nowMs() + timeoutMs;
    const cold = percentiles(await roundTrips(conn, payload, warmup, n, deadline));
    if (warmRoundTrips === 0) return cold;
    const warm = percentiles(await roundTrips(conn, payload, warmRoundTrips, n, deadline));
    return { ...cold, warm };
  },

  /** Close every connection. */
  async close() {
    const n = conns.length;
    for (const conn of conns.splice(0)) {
      try {
        conn.close();
      } catch {
        /* ignore */
      }
    }
    return { closed: n };
  },
};

/**
 * Times `n` sequential echo round trips on `conn` after `skip` unmeasured ones; resolves with
 * the samples in microseconds.
 */
function roundTrips(conn, payload, skip, n, deadline) {
  const samples = new Float64Array(n);
  let i = -skip;
  let tSend = 0n;
  return new Promise((resolve, reject) => {
    conn.onEchoReply(() => {
      const dt = Number(process.hrtime.bigint() - tSend) / 1000;
      if (i >= 0) samples[i] = dt;
      i++;
      if (i >= n) {
        conn.onEchoReply(() => {});
        return resolve(samples);
      }
      if (nowMs() > deadline) {
        return reject(new Error(`latency: only ${i} of ${n} round trips before the deadline`));
      }
      tSend = process.hrtime.bigint();
      conn.sendEcho(payload);
    });
    tSend = process.hrtime.bigint();
    conn.sendEcho(payload);
  });
}

/** p50, p90, p99, max and mean of `samples`. */
function percentiles(samples) {
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

serveRpc(jobs, {
  maxLifetimeMs: Number(process.env.BENCH_CHILD_MAX_MS ?? 240_000),
  label: `loadgen:${name}`,
});
send({ type: "ready", pid: process.pid });
