#!/usr/bin/env node
// What does a handshake cost the server? Hosts one contestant's server in this process,
// warms it up, then opens N connections from a load-generator child (100 handshakes in
// flight, as the connect scenario), closes them, and repeats: prints the server's CPU
// (user + system, process.cpuUsage; and split into the main thread and V8's helper threads,
// which compile in the background and help the garbage collector, from /proc schedstat) and
// the load generator's (/proc) per connection for each round, and the median of the server's. With
// --prof <file>, the second round (the first with --cold) is also recorded in a V8 CPU profile (summarise it with
// profile/top-functions.mjs); the profiler slows the server, so read the CPU figures from a
// run without it. With --join, each connection also joins a room once open (one more round
// trip, confirmed by the server): `ws --join` is raw ws paying the round trip Socket.IO's
// CONNECT packet adds to every handshake. With --cold, nothing is warmed up and the first
// round is profiled: the bench's connect scenario (1,000 connections to a fresh server)
// runs mostly cold, in V8's interpreter and baseline code.
// Each round prints "[round K starts]" first, so that `node --trace-opt` output shows what
// V8 compiled inside it.
//
// Under callgrind with BENCH_CALLGRIND=1 (profile/instructions.mjs), only round 1 is counted.
//
//   node bench/profile/connect-cpu.mjs [contestant=switchboard-sioc] [n=2000] [rounds=5] [--join] [--cold] [--prof out.cpuprofile]
//
// Build dist/ first for the Switchboard contestants (npm run build). Nothing listens
// beyond 127.0.0.1.
import { countInstructions, parseToolArgs, startCpuProfile } from "../lib/cpu-profile.mjs";
import { hostServer, startLoadgen } from "../lib/in-process.mjs";
import { cpuSeconds, killAllChildren, sleep, threadCpuUs } from "../lib/proc.mjs";

const args = process.argv.slice(2);
const { profFile, positional } = parseToolArgs(args);
const room = args.includes("--join") ? "joined" : null;
const isCold = args.includes("--cold");
const profiledRound = isCold ? 0 : 1;
const [name = "switchboard-sioc", nArg = "2000", roundsArg = "5"] = positional;
const n = Number(nArg);
const rounds = Number(roundsArg);
const server = await hostServer(name);
const gen = await startLoadgen(name, server.port);

async function waitForCount(count) {
  for (let i = 0; i < 200 && server.connections() !== count; i++) await sleep(25);
}

try {
  if (!isCold) {
    // Warm-up: compile the connect path before anything is measured.
    await gen.rpc("connect", { n: 200, concurrency: 100, timeoutMs: 60_000 }, 70_000);
    await gen.rpc("close", {}, 20_000);
    await waitForCount(0);
  }
  const perConn = [];
  for (let round = 0; round < rounds; round++) {
    const isProfiled = profFile !== undefined && round === profiledRound;
    const profiler = isProfiled ? await startCpuProfile() : undefined;
    const isCounted = round === 0;
    console.log(`[round ${round + 1} starts]`);
    if (isCounted) await countInstructions(true);
    const threads0 = threadCpuUs();
    const cpu0 = process.cpuUsage();
    const client0 = cpuSeconds(gen.pid);
    const job = { n, concurrency: 100, room, timeoutMs: 90_000 };
    const c = await gen.rpc("connect", job, 100_000);
    const cpu = process.cpuUsage(cpu0);
    const threads = threadCpuUs();
    if (isCounted) await countInstructions(false);
    const clientUs = ((cpuSeconds(gen.pid) - client0) * 1e6) / n;
    if (c.ok !== n) throw new Error(`connected ${c.ok} of ${n}: ${c.firstError}`);
    await profiler?.stop(profFile);
    perConn.push((cpu.user + cpu.system) / n);
    console.log(
      `round ${round + 1}: ${((cpu.user + cpu.system) / n).toFixed(0)} us/conn (user ${(cpu.user / n).toFixed(0)}, system ${(cpu.system / n).toFixed(0)}; main thread ${((threads.main - threads0.main) / n).toFixed(0)}, V8 helpers ${((threads.helpers - threads0.helpers) / n).toFixed(0)}), client ${clientUs.toFixed(0)} us/conn, ${((c.ok / c.ms) * 1000).toFixed(0)} conn/s`,
    );
    await gen.rpc("close", {}, 20_000);
    await waitForCount(0);
    await sleep(200);
  }
  const sorted = [...perConn].sort((a, b) => a - b);
  console.log(`${name}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} us/conn`);
} finally {
  await gen.kill();
  await Promise.race([server.close(), sleep(2000)]);
  killAllChildren();
}
process.exit(0);
