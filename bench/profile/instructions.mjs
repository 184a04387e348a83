#!/usr/bin/env node
// How much work is a cold handshake, or a cold round trip, in instructions rather than time?
// Runs profile/connect-cpu.mjs (connect: n handshakes to a fresh server, 100 in flight, the
// bench's connect scenario) or profile/latency-cpu.mjs (latency: n sequential round trips on
// a fresh connection) under valgrind's callgrind, which counts only while the tool's first
// round runs (see countInstructions in lib/cpu-profile.mjs), and prints per operation:
// instructions, first-level instruction and data cache misses and mispredicted branches of
// the server process (all its threads: V8's compilers and garbage collector too; the
// load-generator child runs natively, uncounted).
//
// Counts from valgrind's simulation spread by a few percent from run to run, where CPU time
// on a shared 2-core VM spreads by 20-40 %. They leave out the kernel (system calls) and
// what the simulated caches and branch predictor do not model, and valgrind runs the server
// ~50x slower, so time-driven work (heartbeats, timers) is not in a real run's proportion.
//
//   node bench/profile/instructions.mjs [contestant=switchboard] [n=1000] [connect|latency] [warmup=1]
//
// For latency, `warmup` round trips run uncounted first: `2000 latency 200` counts the bench
// latency scenario's window (round trips 200-2,200 of a fresh pair).
// BENCH_CALLGRIND_OUT=<file> keeps callgrind's profile (`callgrind_annotate <file>` lists
// V8's and Node's own functions by instructions; JavaScript compiled by V8 has no names).
// Needs valgrind on PATH (Debian's valgrind package); takes about a minute for n=1000.
// Build dist/ first for the Switchboard contestants (npm run build). Nothing listens beyond
// 127.0.0.1.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const [name = "switchboard", nArg = "1000", what = "connect", warmupArg = "1"] =
  process.argv.slice(2);
const n = Number(nArg);
if (!(n > 0)) throw new Error("n must be a positive number");
if (what !== "connect" && what !== "latency") throw new Error("connect or latency");

const tool = what === "connect" ? "connect-cpu.mjs" : "latency-cpu.mjs";
// One round, after `warmup` uncounted round trips for latency (at least one: the connection's).
const toolArgs = what === "connect" ? [name, nArg, "1", "--cold"] : [name, nArg, "1", warmupArg];
const args = [
  "--tool=callgrind",
  "--instr-atstart=no",
  "--cache-sim=yes",
  "--branch-sim=yes",
  `--callgrind-out-file=${process.env.BENCH_CALLGRIND_OUT ?? "/dev/null"}`,
  "--smc-check=all-non-file", // V8 writes the code it runs
  process.execPath,
  fileURLToPath(new URL(tool, import.meta.url)),
  ...toolArgs,
];
const env = { ...process.env, BENCH_CALLGRIND: "1" };

console.error(`[instructions] ${name}: ${what} x ${n} under callgrind (about a minute)`);
const stderr = await new Promise((resolve, reject) => {
  execFile("valgrind", args, { env, maxBuffer: 16 << 20 }, (err, _stdout, text) => {
    if (err === null) resolve(text);
    else if (err.code === "ENOENT") reject(new Error("valgrind is not installed"));
    else reject(new Error(`${tool} under valgrind failed: ${text.slice(-2000)}`));
  });
});

// callgrind's summary: "Events    : Ir Dr Dw I1mr ..." and "Collected : 123 456 ...".
const events = /Events\s*:\s*([^\n]+)/.exec(stderr)?.[1].trim().split(/\s+/);
const collected = /Collected\s*:\s*([^\n]+)/.exec(stderr)?.[1].trim().split(/\s+/).map(Number);
if (events === undefined || collected === undefined) {
  throw new Error(`no event counts in callgrind's summary:\n${stderr.slice(-2000)}`);
}
const count = (...names) =>
  names.reduce((sum, event) => sum + (collected[events.indexOf(event)] ?? 0), 0);
if (count("Ir") === 0) throw new Error("nothing was counted: did callgrind_control run?");
const unit = what === "connect" ? "handshake" : "round trip";
const rows = [
  ["instructions", count("Ir")],
  ["I1 misses", count("I1mr")],
  ["D1 misses", count("D1mr", "D1mw")],
  ["mispredicted branches", count("Bcm", "Bim")],
];
for (const [label, total] of rows) {
  console.log(`${name}: ${label} per ${unit}: ${Math.round(total / n).toLocaleString("en-US")}`);
}
