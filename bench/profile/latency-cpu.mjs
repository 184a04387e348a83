#!/usr/bin/env node
// Where does a sequential round trip's time go? Hosts one contestant's server in this process
// and runs the latency scenario's client (one connection, one message at a time) in a
// load-generator child: `warmup` round trips, then `rounds` rounds of n; prints each round's
// p50 and the CPU each side spent per round trip (server: process.cpuUsage; client: the
// sum over its threads), each side's also split into its main thread and V8's helper
// threads (background compiles, garbage-collection helpers; /proc schedstat). CPU per round
// trip is far steadier than p50, which moves with the machine's scheduling. With warmup 200
// and n 2000, round 1 is what the bench's latency scenario measures: mostly code that V8 has
// not optimised yet. Each round prints "[round K starts]" first, so that `node --trace-opt`
// output shows which functions V8 compiled inside it.
//
// Under callgrind with BENCH_CALLGRIND=1 (profile/instructions.mjs), only round 1 is counted.
//
//   node bench/profile/latency-cpu.mjs [contestant=switchboard] [n=20000] [rounds=3] [warmup=5000] [--prof out.cpuprofile]
//
// With --prof, round PROF_ROUND (environment, 0-based, default 1) is recorded in a V8 CPU
// profile of the server (summarise it with profile/top-functions.mjs).
import { countInstructions, parseToolArgs, startCpuProfile } from "../lib/cpu-profile.mjs";
import { hostServer, startLoadgen } from "../lib/in-process.mjs";
import { killAllChildren, threadCpuUs } from "../lib/proc.mjs";

const { profFile, positional } = parseToolArgs(process.argv.slice(2));
const [name = "switchboard", nArg = "20000", roundsArg = "3", warmupArg0 = "5000"] = positional;
const warmupArg = Number(warmupArg0);
const n = Number(nArg);
const server = await hostServer(name);
const gen = await startLoadgen(name, server.port);
const fmt = (x) => x.toFixed(1);
try {
  const c = await gen.rpc("connect", { n: 1 });
  if (c.ok !== 1) throw new Error(`connect failed: ${c.firstError}`);
  await gen.rpc("latency", { n: warmupArg, warmup: 0, timeoutMs: 60_000 }, 70_000);
  for (let round = 0; round < Number(roundsArg); round++) {
    const profiler =
      profFile !== undefined && round === Number(process.env.PROF_ROUND ?? 1)
        ? await startCpuProfile()
        : undefined;
    const isCounted = round === 0;
    if (isCounted) await countInstructions(true);
    console.log(`[round ${round + 1} starts]`);
    const t0 = threadCpuUs();
    const s0 = process.cpuUsage();
    const client0 = threadCpuUs(gen.pid);
    const r = await gen.rpc("latency", { n, warmup: 0, timeoutMs: 120_000 }, 130_000);
    const s = process.cpuUsage(s0);
    const t = threadCpuUs();
    if (isCounted) await countInstructions(false);
    const client = threadCpuUs(gen.pid);
    const clientMain = client.main - client0.main;
    const clientHelpers = client.helpers - client0.helpers;
    await profiler?.stop(profFile);
    console.log(
      `round ${round + 1}: p50 ${fmt(r.p50)} us, mean ${fmt(r.mean)} us; server ${fmt((s.user + s.system) / n)} us/rt (user ${fmt(s.user / n)}, sys ${fmt(s.system / n)}; main thread ${fmt((t.main - t0.main) / n)}, V8 helpers ${fmt((t.helpers - t0.helpers) / n)}); client ${fmt((clientMain + clientHelpers) / n)} us/rt (main thread ${fmt(clientMain / n)}, V8 helpers ${fmt(clientHelpers / n)})`,
    );
  }
} finally {
  killAllChildren();
  await server.close?.();
  process.exit(0);
}
