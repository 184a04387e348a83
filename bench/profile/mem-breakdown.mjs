#!/usr/bin/env node
// Where does the RSS of an idle connection go? Hosts contestants' servers in this process,
// one after the other, opens N idle connections to each from a load-generator child and
// prints, per connection, the deltas of RSS and of each part process.memoryUsage() and
// v8.getHeapSpaceStatistics() report: JS heap used and resident by space, external
// memory, and the rest of the RSS (native: sockets, libuv, malloc).
//
//   node --expose-gc bench/profile/mem-breakdown.mjs [contestants=ws,switchboard-sioc] [n=3000] [--warm]
//
// --warm opens and closes one connection before the 0-connection reading, so that code
// compiled for the first connection is not spread over the N (the bench's memory scenario
// does not warm up). Build dist/ first for the Switchboard contestants (npm run build).
// Nothing listens beyond 127.0.0.1.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { getHeapSpaceStatistics } from "node:v8";
import { hostServer, startLoadgen } from "../lib/in-process.mjs";
import { killAllChildren, rssKB, sleep } from "../lib/proc.mjs";

const args = process.argv.slice(2);
const isWarm = args.includes("--warm");
const isChild = args.includes("--json");
const [names = "ws,switchboard-sioc", nArg = "3000"] = args.filter((a) => !a.startsWith("--"));
const n = Number(nArg);
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");
async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(50);
  }
}

function reading() {
  const m = process.memoryUsage();
  const spaces = {};
  let physical = 0;
  for (const space of getHeapSpaceStatistics()) {
    spaces[`${space.space_name} used`] = space.space_used_size;
    spaces[`${space.space_name} resident`] = space.physical_space_size;
    // The young generation's size is set by V8's heuristics (it grows when much of what
    // it holds survives), and is mostly resident once grown.
    if (space.space_name === "new_space") spaces["new_space size"] = space.space_size;
    physical += space.physical_space_size;
  }
  return {
    rss: rssKB(process.pid) * 1024,
    heapTotal: m.heapTotal,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    ...spaces,
    "heap resident": physical,
    "rss - heap resident": rssKB(process.pid) * 1024 - physical,
  };
}

async function measure(name) {
  const server = await hostServer(name);
  const gen = await startLoadgen(name, server.port);
  try {
    if (isWarm) {
      await gen.rpc("connect", { n: 1 }, 20_000);
      await gen.rpc("close", {}, 20_000);
      await sleep(300);
    }
    await settle();
    const r0 = reading();
    const c = await gen.rpc("connect", { n, concurrency: 100, timeoutMs: 90_000 }, 100_000);
    if (c.ok !== n) throw new Error(`connected ${c.ok} of ${n}: ${c.firstError}`);
    await sleep(300);
    await settle();
    const r1 = reading();
    const perConn = {};
    for (const key of Object.keys(r1)) perConn[key] = (r1[key] - (r0[key] ?? 0)) / n;
    return perConn;
  } finally {
    await gen.kill();
    await Promise.race([server.close(), sleep(2000)]);
  }
}

if (isChild) {
  // One contestant per process: a heap that hosted another server first would skew it.
  try {
    console.log(JSON.stringify(await measure(names)));
  } finally {
    killAllChildren();
  }
  process.exit(0);
}

try {
  const results = {};
  const self = fileURLToPath(import.meta.url);
  for (const name of names.split(",")) {
    const flags = ["--expose-gc", self, name, String(n), "--json", ...(isWarm ? ["--warm"] : [])];
    const out = execFileSync(process.execPath, flags, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", 2],
    });
    results[name] = JSON.parse(out.trim().split("\n").pop());
  }
  const columns = Object.keys(results);
  console.log(`bytes per idle connection, ${n} connections${isWarm ? ", warmed up" : ""}`);
  console.log(["".padEnd(24), ...columns.map((c) => c.padStart(18))].join(""));
  for (const key of Object.keys(results[columns[0]])) {
    const cells = columns.map((c) => (results[c][key] ?? 0).toFixed(0).padStart(18));
    if (cells.every((cell) => cell.trim() === "0")) continue;
    console.log([key.padEnd(24), ...cells].join(""));
  }
} finally {
  killAllChildren();
}
process.exit(0);
