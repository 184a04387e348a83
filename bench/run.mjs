#!/usr/bin/env node
// Benchmark orchestrator. Runs every scenario for every contestant, interleaved
// (rep 1: A B C, rep 2: B C A, ...), and reports medians, ratios against raw ws,
// and Switchboard against Socket.IO.
//
//   node bench/run.mjs [--quick] [--reps 3] [--contestants ws,socketio,switchboard]
//                      [--scenarios echo,broadcast,memory,connect,latency,polling,cluster]
//                      [--set echo.durationMs=2000] [--budget-s 430]
//                      [--out file.md] [--svg file.svg] [--json file.json]
//   node bench/run.mjs --from-json bench/results/full.json [--out ...] [--svg ...]
//                      (re-render a report from a run's raw JSON, measuring nothing)
//
// Prefer `npm run bench` (builds dist/ first) or `bash bench/run.sh`, which raises
// ulimit -n and adds a hard timeout. Progress goes to stderr, the table to stdout.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { clusterScenario } from "./lib/cluster-scenario.mjs";
import {
  BASELINE,
  contestantModule,
  discoverContestants,
  entryId,
  loadMeta,
  profileContestants,
  SIO_BASELINE,
} from "./lib/contestants.mjs";
import { environment } from "./lib/environment.mjs";
import { killAllChildren } from "./lib/proc.mjs";
import { addRunValues, rebuildState } from "./lib/rebuild.mjs";
import { renderReport } from "./lib/render.mjs";
import { fmt, resultsTable } from "./lib/report.mjs";
import { scenarios as singleServerScenarios, smokeTest } from "./lib/scenarios.mjs";
import { ratioChart } from "./lib/svg.mjs";

const { values: opt } = parseArgs({
  options: {
    reps: { type: "string" },
    quick: { type: "boolean", default: false },
    contestants: { type: "string" },
    scenarios: { type: "string" },
    "budget-s": { type: "string" },
    out: { type: "string" },
    svg: { type: "string" },
    json: { type: "string" },
    set: { type: "string", multiple: true },
    "from-json": { type: "string" },
  },
});

const PARAMS = {
  echo: { clients: 100, window: 10, warmupMs: 500, durationMs: 2500, bytes: 100 },
  broadcast: {
    clients: 1000,
    messages: 100,
    bytes: 100,
    gens: 2,
    timeoutMs: 60_000,
    patterns: ["paced", "burst"],
    pauseMs: 200,
  },
  memory: {
    steps: [5000],
    gens: 2,
    fanout: { messages: 10, bytes: 100, pattern: "paced", timeoutMs: 60_000 },
    pauseMs: 200,
  },
  connect: { n: 1000, concurrency: 100, warmRounds: 2 },
  // 9,200 messages in all from the one connection: under Switchboard's default rate limit of
  // 10,000 per second, which a faster run would exceed (the server closes such a session).
  latency: { n: 2000, warmup: 200, warmRoundTrips: 5000, bytes: 100 },
  polling: { clients: 50, window: 10, warmupMs: 500, durationMs: 2500, bytes: 100 },
  cluster: { nodes: 3, clients: 3000, messages: 50, bytes: 100, timeoutMs: 60_000, pauseMs: 200 },
};
// The smoke run: every scenario once per contestant, in its first mode only, small and short
// enough that all of it fits the 45 s budget on a slow 2-core VM.
const QUICK = {
  echo: { clients: 20, window: 10, warmupMs: 100, durationMs: 400, bytes: 100 },
  broadcast: {
    clients: 200,
    messages: 20,
    bytes: 100,
    gens: 2,
    timeoutMs: 20_000,
    patterns: ["paced", "burst"],
    pauseMs: 50,
  },
  memory: {
    steps: [500],
    gens: 2,
    fanout: { messages: 5, bytes: 100, pattern: "paced", timeoutMs: 20_000 },
    pauseMs: 100, // RSS settles after a forced GC
  },
  connect: { n: 200, concurrency: 50, warmRounds: 1 },
  latency: { n: 200, warmup: 20, warmRoundTrips: 500, bytes: 100 },
  polling: { clients: 10, window: 5, warmupMs: 100, durationMs: 400, bytes: 100 },
  cluster: { nodes: 3, clients: 300, messages: 10, bytes: 100, timeoutMs: 20_000, pauseMs: 50 },
};
/** Every scenario; `cluster` (lib/cluster-scenario.mjs) runs 3 nodes on a redis-server. */
const scenarios = [...singleServerScenarios, clusterScenario];
/** Columns compared with Socket.IO in the report's second table (first one gets a verdict). */
const SWITCHBOARD_COLUMNS = [
  "switchboard-sioc",
  "switchboard-sioc:emit",
  "switchboard",
  "switchboard:emit",
];
/**
 * The order of the scenarios within each repetition: cheapest first. The suite runs
 * repetition by repetition (every scenario's first, then every scenario's second...), so a
 * run cut short by the time budget on a slow machine loses the last repetitions of the
 * last scenarios, not whole scenarios.
 */
const RUN_ORDER = ["latency", "connect", "polling", "echo", "broadcast", "cluster", "memory"];

const params = structuredClone(opt.quick ? QUICK : PARAMS);
applySets(params, opt.set ?? []);
const isFullSuite = !opt.quick && !opt.reps && !opt.contestants && !opt.scenarios && !opt.set;
let reps = opt.reps ? Number(opt.reps) : opt.quick ? 1 : 3;
const budgetMs = Number(opt["budget-s"] ?? (opt.quick ? 45 : 430)) * 1000;
const outputs = outputPaths();
const tStart = Date.now();
const elapsed = () => ((Date.now() - tStart) / 1000).toFixed(1);
const log = (...a) => console.error(`[${elapsed()}s]`, ...a);
const notes = [];

/** --set scenario.key=value (repeatable), e.g. --set broadcast.messages=50 --set memory.steps=[2000] */
function applySets(target, assignments) {
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    const keys = assignment.slice(0, eq).split(".");
    let node = target;
    for (const k of keys.slice(0, -1)) {
      node[k] ??= {};
      node = node[k];
    }
    node[keys.at(-1)] = JSON.parse(assignment.slice(eq + 1));
  }
}

/** Only the full default suite writes bench/RESULTS.md and bench/ratios.svg by default. */
function outputPaths() {
  const here = (p) => fileURLToPath(new URL(p, import.meta.url));
  const kind = isFullSuite ? "full" : opt.quick ? "quick" : "partial";
  return {
    out: opt.out ?? (isFullSuite ? here("RESULTS.md") : here(`results/RESULTS-${kind}.md`)),
    svg: opt.svg ?? (isFullSuite ? here("ratios.svg") : here(`results/ratios-${kind}.svg`)),
    json: opt.json ?? here(`results/${kind}.json`),
  };
}

/** Shrink connection counts that the open-files limit cannot hold (each process holds its own). */
function fitToFdLimit(limit) {
  const cap = limit - 200;
  const steps = params.memory.steps.filter((n) => n <= cap);
  const over = params.broadcast.clients > cap || params.connect.n > cap;
  if (steps.length < params.memory.steps.length || over)
    notes.push(`ulimit -n is ${limit}: connection counts above ${cap} were skipped or capped.`);
  params.memory.steps = steps.length ? steps : [cap];
  params.broadcast.clients = Math.min(params.broadcast.clients, cap);
  params.connect.n = Math.min(params.connect.n, cap);
}

const firstLine = (err) => String(err?.message ?? err).split("\n")[0];

/** Loads a contestant's modules and runs one connection through its server, or says why not. */
async function preflight(name) {
  let meta;
  try {
    meta = await loadMeta(name);
  } catch (err) {
    return { why: `its client did not load (${firstLine(err)})` };
  }
  try {
    await import(contestantModule(name, "server.mjs"));
  } catch (err) {
    return { why: `its server did not load (${firstLine(err)})` };
  }
  try {
    await smokeTest(name, meta.modes[0]);
  } catch (err) {
    return { why: `its smoke test failed (${firstLine(err)})` };
  }
  return { meta };
}

const rotate = (xs, k) => xs.map((_, i) => xs[(i + k) % xs.length]);

/** Everything collected so far; finish() renders it (also on SIGTERM). */
const state = {
  env: null,
  rows: [],
  columns: [],
  runs: [],
  chosen: [],
  excluded: [],
  stoppedEarly: false,
  finished: false,
};

async function selectContestants() {
  const wanted = opt.contestants?.split(",");
  const metas = [];
  const named = wanted ? profileContestants().filter((n) => wanted.includes(n)) : [];
  for (const name of [
    ...discoverContestants().filter((n) => !wanted || wanted.includes(n)),
    ...named,
  ]) {
    const { meta, why } = await preflight(name);
    if (why) {
      state.excluded.push({ name, why });
      notes.push(`contestant ${name} skipped: ${why}`);
      log(`skip ${name}: ${why}`);
    } else {
      log(`contestant ${name}: ok (modes ${meta.modes.join(", ")}; ${meta.transports.join(", ")})`);
      metas.push(meta);
    }
  }
  if (!metas.some((m) => m.name === BASELINE))
    throw new Error(`baseline contestant ${BASELINE} is not available`);
  return metas;
}

/** The modes a contestant runs: all of them in a per-mode scenario, except in the smoke run. */
function modesOf(meta, isPerMode = true) {
  return isPerMode && !opt.quick ? meta.modes : [meta.modes[0]];
}

function entriesFor(sc, metas) {
  const transport = sc.transport ?? "websocket";
  return metas
    .filter((m) => m.transports.includes(transport))
    .filter((m) => !sc.contestants || sc.contestants.includes(m.name)) // e.g. cluster: Redis adapters only
    .flatMap((m) =>
      modesOf(m, sc.perMode).map((mode) => ({
        name: m.name,
        mode,
        id: entryId(m.name, mode, m.modes),
      })),
    );
}

function rowsFor(sc, p) {
  const metrics = typeof sc.metrics === "function" ? sc.metrics(p) : sc.metrics;
  return metrics.map((mt) => ({
    order: scenarios.indexOf(sc),
    scenario: mt.title ?? sc.title,
    metric: mt.label,
    better: mt.better,
    key: mt.key,
    values: {},
  }));
}

/** One run of one scenario for one entry; records the result or the failure. */
async function runOne(sc, p, e, rep, scRows) {
  const t0 = Date.now();
  const tag = `${sc.title} rep${rep + 1} ${e.id}`;
  try {
    const transport = sc.transport ?? "websocket";
    const r = await sc.run({ name: e.name, mode: e.mode, params: p, transport });
    addRunValues(scRows, e.id, r);
    state.runs.push({ scenario: sc.id, rep, entry: e.id, ms: Date.now() - t0, result: r });
    const unpinned = `${sc.title}: runs were not pinned to one CPU (taskset failed)`;
    if (r.isPinned === false && !notes.includes(unpinned)) notes.push(unpinned);
    const summary = scRows
      .filter((row) => r[row.key] !== undefined)
      .map((row) => `${row.key}=${fmt(r[row.key])}`)
      .join(" ");
    const env = r._env;
    const bg = env
      ? ` [other procs ${env.foreignCores.toFixed(2)} cores, idle ${env.idlePct.toFixed(0)}%]`
      : "";
    log(`${tag}: ${summary} (${((Date.now() - t0) / 1000).toFixed(1)}s)${bg}`);
  } catch (err) {
    notes.push(`${tag} FAILED: ${firstLine(err)}`);
    state.runs.push({ scenario: sc.id, rep, entry: e.id, error: firstLine(err) });
    log(`${tag}: FAILED ${firstLine(err)}`);
  }
}

async function main() {
  state.env = environment();
  fitToFdLimit(state.env.openFiles);
  log(`node ${state.env.node}, ${state.env.nproc} cores (${state.env.cpuModel}), reps ${reps}`);
  const metas = await selectContestants();
  const wantedScenarios = opt.scenarios?.split(",");
  state.chosen = scenarios.filter((s) => !wantedScenarios || wantedScenarios.includes(s.id));
  const runOrder = [...state.chosen].sort(
    (a, b) => RUN_ORDER.indexOf(a.id) - RUN_ORDER.indexOf(b.id),
  );
  for (const m of metas)
    for (const mode of modesOf(m)) state.columns.push(entryId(m.name, mode, m.modes));

  const plan = runOrder.map((sc) => {
    const p = params[sc.id];
    const scRows = rowsFor(sc, p);
    state.rows.push(...scRows);
    return {
      sc,
      p,
      // Its later runs in a repetition may skip part of the measurement (sc.laterRuns).
      pLater: { ...p, ...sc.laterRuns },
      entries: entriesFor(sc, metas),
      scRows,
      // A scenario with short, noisy runs (latency) runs several times per repetition.
      runsPerRep: opt.quick ? 1 : (sc.runsPerRep ?? 1),
    };
  });
  for (let rep = 0; rep < reps; rep++) {
    for (const { sc, p, pLater, entries, scRows, runsPerRep } of plan) {
      for (let sub = 0; sub < runsPerRep; sub++) {
        for (const e of rotate(entries, rep * runsPerRep + sub)) {
          if (Date.now() - tStart > budgetMs) state.stoppedEarly = true;
          else await runOne(sc, sub === 0 ? p : pLater, e, rep, scRows);
        }
      }
    }
  }
}

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  log(`wrote ${relative(process.cwd(), path)}`);
}

/**
 * Lay the markdown out as the project's formatter does (padded tables...), so that
 * `npm run lint` (biome check .) stays clean with a committed RESULTS.md. Best effort:
 * biome ignores git-ignored paths such as bench/results/, and a failure is only logged.
 */
function formatMarkdown(path) {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const biome = `${root}node_modules/.bin/biome`;
  if (!path.startsWith(root) || !existsSync(biome)) return;
  try {
    const args = ["format", "--write", "--no-errors-on-unmatched", path];
    execFileSync(biome, args, { cwd: root, stdio: "ignore", timeout: 20_000 });
  } catch (err) {
    log(`biome format ${relative(root, path)} failed (${firstLine(err)}); left as written`);
  }
}

/** Print the table and write the report, chart and (unless re-rendering) the JSON. */
function publish({ totalS, quick, args, writeJson }) {
  state.rows.sort((a, b) => a.order - b.order); // definition order, stable within a scenario
  console.log(resultsTable(state.rows, state.columns, BASELINE));
  const env = state.env;
  const subtitle = `${env.date.slice(0, 10)}, Node ${env.node}, ${env.nproc} cores (${env.cpuModel}), median of ${reps} repetition(s)${quick ? ", QUICK smoke run" : ""}`;
  const svg = ratioChart(state.rows, state.columns, BASELINE, subtitle);
  if (svg) write(outputs.svg, svg);
  const chartPath = svg ? relative(dirname(resolve(outputs.out)), resolve(outputs.svg)) : null;
  const report = renderReport({
    ...state,
    params,
    reps,
    totalS,
    notes,
    chartPath,
    quick,
    args,
    baseline: BASELINE,
    sioBaseline: SIO_BASELINE,
    switchboardColumns: SWITCHBOARD_COLUMNS,
  });
  write(outputs.out, report);
  formatMarkdown(resolve(outputs.out));
  if (!writeJson) return;
  const { columns, excluded, runs } = state;
  const scenarioIds = state.chosen.map((sc) => sc.id);
  const json = { env, params, reps, totalS, quick, args, notes, columns, excluded, runs };
  write(outputs.json, JSON.stringify({ ...json, scenarios: scenarioIds }, null, 2));
}

/** Render whatever has been collected (also on SIGTERM or an error). */
function finish(reason) {
  if (state.finished || !state.env) return;
  state.finished = true;
  if (reason) notes.push(`INCOMPLETE RUN: ${reason}; the tables hold only what finished before.`);
  if (state.stoppedEarly)
    notes.push(
      `time budget of ${budgetMs / 1000} s reached: remaining runs were skipped (see the per-repetition values).`,
    );
  const totalS = (Date.now() - tStart) / 1000;
  log(`done in ${totalS.toFixed(1)} s`);
  const args = process.argv.slice(2).join(" ");
  publish({ totalS, quick: opt.quick, args, writeJson: true });
}

/** --from-json: the report of an earlier run, re-rendered with the current report code. */
function rerender(path) {
  const json = JSON.parse(readFileSync(path, "utf8"));
  Object.assign(params, json.params);
  reps = json.reps;
  notes.push(...json.notes);
  Object.assign(state, { env: json.env, runs: json.runs, finished: true });
  Object.assign(state, rebuildState(json, scenarios, rowsFor));
  publish({
    totalS: json.totalS,
    quick: json.quick ?? false,
    args: json.args ?? "",
    writeJson: false,
  });
}

if (opt["from-json"]) {
  rerender(opt["from-json"]);
} else {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      log(`${sig}: killing children, writing what was measured, exiting`);
      killAllChildren();
      finish(`stopped by ${sig}`);
      process.exit(130);
    });
  }
  main()
    .then(() => finish())
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
      finish(`error: ${firstLine(err)}`);
    })
    .finally(() => killAllChildren());
}
