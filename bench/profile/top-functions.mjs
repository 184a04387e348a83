#!/usr/bin/env node
// Summarises a V8 CPU profile (node --cpu-prof, or BENCH_CPU_PROF=<dir> npm run bench ...):
// the functions with the most self time, and the most inclusive time (self + callees).
//
//   node bench/profile/top-functions.mjs <file.cpuprofile> [top=30]
//
// Paths are shortened to the package or project file; "(garbage collector)", "(program)" and
// "(idle)" are V8's own buckets (idle = waiting in the event loop).
import { readFileSync } from "node:fs";

const [file, topArg = "30"] = process.argv.slice(2);
if (!file) throw new Error("usage: top-functions.mjs <file.cpuprofile> [top]");
const top = Number(topArg);
const profile = JSON.parse(readFileSync(file, "utf8"));
const total = profile.endTime - profile.startTime; // microseconds
const samples = profile.samples.length;
const usPerSample = total / samples;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

function label(node) {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url
    .replace(/^file:\/\//, "")
    .replace(/.*node_modules\//, "")
    .replace(/.*\/(dist|src|bench)\//, "$1/");
  return `${functionName || "(anonymous)"} ${short ? `${short}:${lineNumber + 1}` : ""}`.trim();
}

const self = new Map();
const inclusive = new Map();
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
for (const [id, count] of hits) {
  const node = byId.get(id);
  const name = label(node);
  self.set(name, (self.get(name) ?? 0) + count);
  // Each function counts once per sample even when it recurses.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const ancestor = label(byId.get(cur));
    if (seen.has(ancestor)) continue;
    seen.add(ancestor);
    inclusive.set(ancestor, (inclusive.get(ancestor) ?? 0) + count);
  }
}

const idle = self.get("(idle)") ?? 0;
const busy = samples - idle;
console.log(
  `${file}: ${(total / 1e6).toFixed(2)} s, ${samples} samples, busy ${((busy / samples) * 100).toFixed(1)}%`,
);
const print = (title, map) => {
  console.log(`\n${title} (% of busy time)`);
  const rows = [...map].filter(([name]) => name !== "(idle)").sort((a, b) => b[1] - a[1]);
  for (const [name, count] of rows.slice(0, top)) {
    const ms = ((count * usPerSample) / 1000).toFixed(0).padStart(6);
    console.log(`${((count / busy) * 100).toFixed(1).padStart(5)}% ${ms} ms  ${name}`);
  }
};
print("self time", self);
print("inclusive time", inclusive);
