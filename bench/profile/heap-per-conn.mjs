#!/usr/bin/env node
// Where does the JS heap of an idle connection go? Hosts one contestant's server in this
// process, opens N idle connections from a load-generator child, and diffs two heap
// snapshots (0 vs N connections) by object kind: count and bytes per connection.
//
//   node --expose-gc bench/profile/heap-per-conn.mjs [contestant=switchboard-sioc] [n=2000] [top=40] [kind...]
//
// Each extra `kind` argument (a label from the table, e.g. "string" or "object:Object") also
// lists what retains the new objects of that kind: the retainer's kind and the edge name.
//
// Build dist/ first for the Switchboard contestants (npm run build). Nothing listens
// beyond 127.0.0.1. Snapshots go to a temporary directory and are deleted afterwards.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { hostServer, startLoadgen } from "../lib/in-process.mjs";
import { killAllChildren, sleep } from "../lib/proc.mjs";

const [name = "switchboard-sioc", nArg = "2000", topArg = "40", ...why] = process.argv.slice(2);
const n = Number(nArg);
const top = Number(topArg);
if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");

const server = await hostServer(name);
const dir = mkdtempSync(join(tmpdir(), "heap-per-conn-"));

async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(50);
  }
}

/** Single objects at least this big are listed apart instead of counted per connection. */
const LARGE = 262_144;

function labelOf(strings, type, nameIndex) {
  if (type === "object" || type === "closure" || type === "native" || type === "hidden") {
    return `${type}:${strings[nameIndex]}`;
  }
  return type === "array" ? `array:${strings[nameIndex]}` : type;
}

/**
 * Aggregates a snapshot's nodes by kind ("type:name"): count and self size. With `why`
 * (kinds) and `oldIds` (node ids of an earlier snapshot), also counts, for the nodes of
 * those kinds that are new, the kind of their retainers and the edge names.
 */
function summarize(file, why = [], oldIds = undefined) {
  const g = graphOf(JSON.parse(readFileSync(file, "utf8")));
  const { nodes, width, iId, iSize } = g;
  const out = new Map();
  const ids = new Set();
  const large = [];
  for (let i = 0; i < nodes.length; i += width) {
    const label = g.labelAt(i);
    ids.add(nodes[i + iId]);
    if (nodes[i + iSize] >= LARGE) {
      // One big table (e.g. a Map of every connection) is not a per-connection cost.
      large.push({ label, id: nodes[i + iId], bytes: nodes[i + iSize] });
      continue;
    }
    const entry = out.get(label) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + iSize];
    out.set(label, entry);
  }
  const retainers =
    why.length > 0 && oldIds !== undefined ? retainersOf(g, why, oldIds) : new Map();
  return { kinds: out, ids, retainers, large };
}

/** A snapshot's flat node and edge arrays, with the offsets of the fields read here. */
function graphOf(snap) {
  const meta = snap.snapshot.meta;
  const fields = meta.node_fields;
  const types = meta.node_types[0];
  const [iType, iName, iId, iSize, iEdges] = ["type", "name", "id", "self_size", "edge_count"].map(
    (f) => fields.indexOf(f),
  );
  const { nodes, edges, strings } = snap;
  return {
    nodes,
    edges,
    strings,
    edgeTypes: meta.edge_types[0],
    width: fields.length,
    edgeWidth: meta.edge_fields.length,
    iId,
    iSize,
    iEdges,
    /** The kind ("type:name") of the node at offset `i`. */
    labelAt: (i) => labelOf(strings, types[nodes[i + iType]], nodes[i + iName]),
  };
}

/**
 * For the new nodes (not in `oldIds`) of the kinds in `why`: how many, and how many bytes,
 * per retainer kind and edge name, and that retainer's own first retainer.
 */
function retainersOf(g, why, oldIds) {
  const { nodes, edges, strings, edgeTypes, width, edgeWidth, iId, iSize, iEdges } = g;
  // The first retainer of every node, to name a retainer's own retainer too.
  const firstParent = new Map();
  let f = 0;
  for (let i = 0; i < nodes.length; i += width) {
    for (let k = 0; k < nodes[i + iEdges]; k++, f += edgeWidth) {
      const to = edges[f + 2];
      if (edgeTypes[edges[f]] !== "weak" && !firstParent.has(to)) firstParent.set(to, [i, f]);
    }
  }
  const edgeLabel = (e) => {
    const edgeType = edgeTypes[edges[e]];
    return edgeType === "element" || edgeType === "hidden"
      ? `[${edgeType}]`
      : strings[edges[e + 1]];
  };
  const retainers = new Map();
  let e = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const parent = g.labelAt(i);
    for (let k = 0; k < nodes[i + iEdges]; k++, e += edgeWidth) {
      if (edgeTypes[edges[e]] === "weak") continue;
      const to = edges[e + 2];
      const child = g.labelAt(to);
      if (!why.includes(child) || oldIds.has(nodes[to + iId])) continue;
      if (nodes[to + iSize] >= LARGE) continue;
      const grand = firstParent.get(i);
      const grandLabel = grand ? ` <- ${g.labelAt(grand[0])}.${edgeLabel(grand[1])}` : "";
      const key = `${child} <- ${parent}.${edgeLabel(e)}${grandLabel}`;
      const entry = retainers.get(key) ?? { count: 0, bytes: 0 };
      entry.count++;
      entry.bytes += nodes[to + iSize];
      retainers.set(key, entry);
    }
  }
  return retainers;
}

try {
  await settle();
  const heap0 = process.memoryUsage().heapUsed;
  const before = summarize(writeHeapSnapshot(join(dir, "before.heapsnapshot")));
  const gen = await startLoadgen(name, server.port);
  const c = await gen.rpc("connect", { n, concurrency: 100, timeoutMs: 90_000 }, 100_000);
  if (c.ok !== n) throw new Error(`connected ${c.ok} of ${n}: ${c.firstError}`);
  await sleep(300);
  await settle();
  const heap1 = process.memoryUsage().heapUsed;
  const after = summarize(writeHeapSnapshot(join(dir, "after.heapsnapshot")), why, before.ids);
  const rows = [];
  for (const [label, a] of after.kinds) {
    const b = before.kinds.get(label) ?? { count: 0, bytes: 0 };
    const bytes = (a.bytes - b.bytes) / n;
    if (Math.abs(bytes) >= 1) rows.push({ label, count: (a.count - b.count) / n, bytes });
  }
  rows.sort((x, y) => y.bytes - x.bytes);
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`${name}: ${n} idle connections`);
  console.log(`heapUsed delta per connection: ${((heap1 - heap0) / n).toFixed(0)} B`);
  console.log(`snapshot delta per connection: ${total.toFixed(0)} B\n`);
  for (const big of after.large) {
    if (!before.ids.has(big.id)) console.log(`not counted: one ${big.label} of ${big.bytes} B`);
  }
  console.log("bytes/conn  objs/conn  kind");
  for (const r of rows.slice(0, top)) {
    console.log(
      `${r.bytes.toFixed(0).padStart(10)}  ${r.count.toFixed(2).padStart(9)}  ${r.label}`,
    );
  }
  const whyRows = [...after.retainers].sort((x, y) => y[1].bytes - x[1].bytes);
  if (whyRows.length > 0)
    console.log("\nretainers (an object with several retainers counts once for each)");
  for (const [key, r] of whyRows.slice(0, top)) {
    console.log(
      `${(r.bytes / n).toFixed(0).padStart(10)}  ${(r.count / n).toFixed(2).padStart(9)}  ${key}`,
    );
  }
  await gen.kill();
} finally {
  await Promise.race([server.close(), sleep(2000)]);
  killAllChildren();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
