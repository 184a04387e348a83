#!/usr/bin/env node
// How many functions does one handshake, or one round trip, run on the server, and which?
// Hosts one contestant's server in this process under V8's precise coverage with call
// counts, runs `n` handshakes (the connect scenario's: 100 in flight) or `n` sequential
// round trips (the latency scenario's, on one connection) from a load-generator child, and
// prints every function the server called at least once per operation on average, with
// its calls per operation. Functions of Node itself are counted apart from the rest (the
// contestant's library and its bench glue). A cold operation pays for each distinct
// function it runs: its first calls are interpreted, and V8 optimises each one separately.
//
//   node bench/profile/call-counts.mjs [contestant=switchboard] [n=1000] [connect|latency] [--all]
//
// --all lists Node's own functions too. Build dist/ first for the Switchboard contestants
// (npm run build). Nothing listens beyond 127.0.0.1.
import { Session } from "node:inspector/promises";
import { hostServer, startLoadgen } from "../lib/in-process.mjs";
import { killAllChildren } from "../lib/proc.mjs";

const args = process.argv.slice(2);
const listAll = args.includes("--all");
const [name = "switchboard", nArg = "1000", what = "connect"] = args.filter((a) => a !== "--all");
const n = Number(nArg);
const root = new URL("../../", import.meta.url).href;

const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.startPreciseCoverage", { callCount: true, detailed: false });
const server = await hostServer(name);
const gen = await startLoadgen(name, server.port);
try {
  if (what === "latency") await gen.rpc("connect", { n: 1 });
  await session.post("Profiler.takePreciseCoverage"); // counts restart from here
  if (what === "latency") {
    await gen.rpc("latency", { n, warmup: 0, timeoutMs: 60_000 }, 70_000);
  } else {
    await gen.rpc("connect", { n, concurrency: 100, timeoutMs: 60_000 }, 70_000);
  }
  const { result } = await session.post("Profiler.takePreciseCoverage");
  const rows = [];
  for (const script of result) {
    const isNode = script.url.startsWith("node:");
    for (const fn of script.functions) {
      const perOp = fn.ranges[0].count / n;
      if (perOp < 0.5) continue;
      rows.push({
        perOp,
        isNode,
        label: `${fn.functionName || "(anonymous)"} ${script.url.replace(root, "")}`,
      });
    }
  }
  rows.sort((a, b) => b.perOp - a.perOp);
  for (const isNode of [false, true]) {
    const part = rows.filter((r) => r.isNode === isNode);
    const calls = part.reduce((sum, r) => sum + r.perOp, 0);
    const whose = isNode ? "Node's own" : "the contestant's (library and bench glue)";
    console.log(`${whose}: ${part.length} functions, ${calls.toFixed(1)} calls per ${what}`);
    if (!isNode || listAll)
      for (const r of part) console.log(`${r.perOp.toFixed(2).padStart(8)}  ${r.label}`);
  }
} finally {
  killAllChildren();
  await server.close?.();
  process.exit(0);
}
