// The performance targets of issue 5, checked against a run's rows: each target is a ratio
// to `ws` in the same run, judged for our server alone (`switchboard-sioc`, driven by the
// official socket.io-client) and for our server with our client (`switchboard`).
//
// `missed` explains a miss with what the CPU profile of that scenario showed (BENCH_CPU_PROF,
// bench/profile/top-functions.mjs); it is printed only when the target is missed.
import { fmt, ratio } from "./report.mjs";
import { median } from "./stats.mjs";

const SUBJECTS = ["switchboard-sioc", "switchboard"];

const broadcastTitle = (p, pattern) =>
  `broadcast-fanout (${p.broadcast.clients} clients x ${p.broadcast.messages} msgs, ${pattern})`;
const memorySteps = (p) => Math.max(...p.memory.steps);

/**
 * Each target: the row it reads, the bound on the ratio to ws, why it may be missed and, for a
 * target measured on cold code, the row of the same measurement warm (`warmRow`).
 */
export const TARGETS = [
  {
    id: "echo-rps",
    title: "echo: round trips/s >= 1.0x ws",
    row: () => ["echo-throughput", "round trips/s"],
    atLeast: 1.0,
    missed:
      "End to end, so the load generator counts: socket.io-client (engine.io-client, " +
      "socket.io-parser and ack bookkeeping, one write per emit) saturates its core (the " +
      "client CPU row: ~95 %) while our server runs at ~70 % of one, and it does no better " +
      "against Socket.IO's own server (the `socketio` column). Our client writes the replies " +
      "to the packets of one read in one write and reads frames itself (its own Node " +
      "WebSocket client): 1.2-2.3x ws across the machines these runs were made on.",
  },
  {
    id: "echo-cpu",
    title: "echo: server CPU per round trip <= 1.05x ws",
    row: () => ["echo-throughput", "server CPU us / round trip"],
    atMost: 1.05,
    missed:
      "With socket.io-client the load generator cannot keep our server busy, so the server " +
      "reads and writes about once per round trip where ws's, saturated, reads many frames " +
      "per system call; with our client, which batches, the row is ~0.4x ws. On top of that " +
      "is connection-state recovery (on by default, off in Socket.IO): its per-session ack " +
      "ledger keeps the responses of the last 1,000 acked emits for resends, ~5 % of the " +
      "server's CPU (`BENCH_SB_RECOVERY=off`). Server profile with socket.io-client " +
      "(`BENCH_CPU_PROF=<dir> bash bench/run.sh --scenarios echo --contestants " +
      "switchboard-sioc`, summarised by `node bench/profile/top-functions.mjs <file>`): the " +
      "write system call 20-25 %, Socket.IO decode and encode ~10 % each (mostly JSON.parse " +
      "and JSON.stringify, which cost what ws's contestant's JSON handling costs), garbage " +
      "collection ~10 %.",
  },
  {
    id: "paced-cpu",
    title: "fan-out paced: server CPU per delivery <= 0.75x ws",
    row: (p) => [broadcastTitle(p, "paced"), "server CPU us / delivery"],
    atMost: 0.75,
    missed:
      "Paced means one broadcast per event-loop turn, so every contestant makes one `write` " +
      "system call per delivery, and the kernel's part (the loopback TCP send and waking the " +
      "reader, 2.2-3.2 us here whoever writes) is most of a delivery. The profile-only " +
      "contestant `floor` is the least a Node server can do: the ws contestant's server, except " +
      "that a broadcast frames its message once and calls `socket.write()` with that Buffer on " +
      "each member's net.Socket, nothing else. In this scenario (`bash bench/run.sh --scenarios " +
      "broadcast --contestants ws,floor,switchboard --reps 5`, session 14) it measured 0.83x ws " +
      "(3.40 against 4.10 us per delivery) and ours 0.85x (3.50): the target is below what any " +
      "server writing through Node's net.Socket reaches here, and ours is within 0.1 us of it. " +
      "Warm (`node bench/profile/fanout-cpu.mjs <contestant> 2000 100 4`, three runs of four " +
      "rounds), user + system per delivery: floor 2.98-3.34 us (user 0.42-0.89), ours 3.35-3.94 " +
      "(user 0.77-1.20), ws 3.91-5.01 (user 1.11-2.11), uWebSockets.js (native, one run) " +
      "2.61-3.03 (user 0.22-0.25). Bypassing Node's stream (session 5: the handle's write " +
      "request; session 12: `fs.writeSync` on the descriptor) did not lower the row beyond its " +
      "spread. Fewer system calls than deliveries would mean holding messages past their turn " +
      "(Nagle-like), which we do not do.",
  },
  {
    id: "burst-dps",
    title: "fan-out burst: deliveries/s >= 4x ws",
    row: (p) => [broadcastTitle(p, "burst"), "deliveries/s"],
    atLeast: 4,
    missed:
      "Our server's send loop takes ~10-20 ms of a burst of 100,000 deliveries (ws's " +
      "~500 ms); the rest of the time is the client processes parsing what arrived, and " +
      "socket.io-client's parser is the slowest part: with it the row has measured 2.7-4.9x " +
      "ws on the machines of these runs, with our client 3.2-9.2x. Our server's CPU per " +
      "burst delivery is ~0.1x ws's with either client.",
  },
  {
    id: "rss",
    title: "memory: RSS per idle connection <= 1.15x ws",
    row: (p) => ["idle-memory", `RSS KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.15,
    missed:
      "RSS is the old generation (the JS heap, next row) plus the young generation's pages " +
      "plus native memory (`bench/profile/mem-breakdown.mjs`, per connection at 5,000). With " +
      '`ws` reading our WebSockets (`wsEngine: "ws"`) an idle connection costs 1.25-1.32x ' +
      "ws's: ws's WebSocket, Receiver and Sender per connection, and more garbage per " +
      "handshake. The builtin reader (the default) keeps one small object per connection: " +
      "0.84-1.05x.",
  },
  {
    id: "heap",
    title: "memory: JS heap per idle connection <= 1.3x ws",
    row: (p) => ["idle-memory", `JS heap KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.3,
    missed:
      'With `ws` reading our WebSockets (`wsEngine: "ws"`) an idle connection holds ' +
      "3.5-3.6 KB (1.26-1.30x ws; `bench/profile/heap-per-conn.mjs` lists what); the builtin " +
      "reader (the default) holds 2.2-2.3 KB (~0.8x): no WebSocket, Receiver (a Writable " +
      "stream with its state and listeners) and Sender per connection.",
  },
  {
    id: "cps",
    title: "connect: connections/s >= 0.9x ws",
    row: () => ["connect-rate", "connections/s"],
    atLeast: 0.9,
    missed:
      "A Socket.IO connection is two round trips (the WebSocket upgrade, then the CONNECT " +
      "packet and its answer) where a ws connection is one, and the load generator's CPU " +
      "bounds the rate: socket.io-client costs ~820 us of client CPU per connection in a " +
      "fresh process against ~400 for the ws client (`bench/profile/client-connect.mjs`), so " +
      "`switchboard-sioc` measures what socket.io-client can open (Socket.IO's own server " +
      "does worse). Our client joins its namespace in the handshake (`sb_connect`) and opens " +
      "its own Node WebSocket (no http.ClientRequest): 0.9-1.3x ws.",
  },
  {
    id: "connect-cpu",
    title: "connect: server CPU per handshake <= 1.2x ws",
    row: () => ["connect-rate", "server CPU us / connection"],
    warmRow: () => ["connect-rate", "server CPU us / connection, warm"],
    atMost: 1.2,
    missed:
      "The scenario opens 1,000 connections to a fresh server, so it measures cold code: " +
      "V8's interpreter, baseline code and its compilers' own work; warm (the next row), our " +
      "handshake is within ~1.1x of ws's. Callgrind counts, repeatable to a few percent where " +
      "time spreads by 20-40 % (`node bench/profile/instructions.mjs <ws|switchboard> 1000 " +
      "connect`, every thread of the server), on Node 20: ours 737,000 instructions per cold " +
      "handshake against ws's 664,000 (1.11x), the optimising compiler's share equal " +
      "(228,000 against 230,000). The Engine.IO handshake alone (the profile-only contestant " +
      "`engine`) is 0.98x ws's; the Socket.IO layer on top (the client, the namespace join, " +
      "the socket and its room, the CONNECT answer, the recovery pid) adds ~85,000. That " +
      "path runs 123 functions of our own against ws's 11 (`bench/profile/call-counts.mjs " +
      "<ws|switchboard> 1000 connect`), each interpreted first and compiled on its own: on " +
      "Node 24 Maglev compiles 381 functions in our server's process during the 1,000 " +
      "against 254 in ws's (`node --trace-opt`), and the count is 485,000-517,000 against " +
      "381,000 (1.27-1.36x). With socket.io-client the CONNECT packet is one more read, " +
      "decode and write per connection, and V8 compiles that receive path during the 1,000 " +
      "(913,000 instructions). Making one function at a time trivial (an upper bound) moved " +
      "the count by less than its spread, except the query parser, whose result is now " +
      "kept for repeated handshake URLs. Single cold rounds spread by ~30 %: partial runs with 5 " +
      "repetitions (`bash bench/run.sh --scenarios connect --contestants ws,switchboard --reps " +
      "5`) gave 1.13x on Node 20.",
  },
  {
    id: "latency",
    title: "latency: p50 <= 1.15x ws",
    row: () => ["latency", "p50 us"],
    warmRow: () => ["latency", "p50 us, warm"],
    atMost: 1.15,
    missed:
      "The server and the client are pinned to one CPU (unpinned, p50 was bimodal on a 2-core " +
      "VM: a message to an idle core waits for it to wake), so the row measures both " +
      "processes' work per round trip, for round trips 200-2,200 of a fresh pair: mostly code " +
      "that V8 has not optimised yet; warm (the next row) ours is within a few percent of ws. " +
      "With socket.io-client the client is the difference: ~100 us of client CPU per round " +
      "trip against 70-80 for ours (`node bench/profile/latency-cpu.mjs <contestant> 2000 1 " +
      "200`). With our client it is V8 compiling our server's path inside the window: " +
      "callgrind (`node bench/profile/instructions.mjs <ws|switchboard> 2000 latency 200`) " +
      "counts 276,000-281,000 instructions per round trip against ws's 233,000, the " +
      "optimising compiler 157,000 of them against 113,000. Under `node --trace-opt " +
      "--no-concurrent-recompilation` V8 compiles for ~108 ms inside our server's window (38 " +
      "jobs; ~58 ms for our own functions: `encodeSocketPacket`, `decodeCommonPacket`, " +
      "`onSocketData`, `containsBinary`, the frame reader, `#onEvent`...) against ~66 ms in " +
      "ws's (28 jobs, ~11 ms for ws's own). ws's path is a few large functions that V8's " +
      "tiering leaves in baseline code until after the window; ours is ~70 small ones " +
      "(`call-counts.mjs <ws|switchboard> 2000 latency`) that it optimises inside it. Our " +
      "client runs fewer instructions than the ws client (208,000 against 244,000). Keeping " +
      "any one of the late functions out of the optimising compiler (`--turbo-filter=-<name>`) " +
      "leaves the row as it is, and halving V8's interrupt budget gets them optimised sooner " +
      "but makes the first round trips slower: the cost is the compiler's work on the one " +
      "CPU, spread over ~20 functions. Single " +
      "runs spread widely: 5 repetitions (`bash bench/run.sh --scenarios latency " +
      "--contestants ws,switchboard --reps 5`) gave 1.03x on Node 20. On Node 24 ws's cold " +
      "path is much faster than on Node 20 (Maglev compiles its few large functions early) " +
      "while V8 compiles 117 functions inside our server's window against 69 in ws's " +
      "(`--trace-opt`); callgrind counts about the same instructions per round trip for both " +
      "there (109,000 against 114,000), yet our server's CPU per round trip is 1.2-1.5x ws's " +
      "(`latency-cpu.mjs`), with about twice the page faults: time that the instruction count " +
      "does not show, and which we have not explained further.",
  },
];

/**
 * A sentence with this run's figures of the warm row `[scenario, metric]` (same code, after
 * V8 has optimised it), for the target measured on cold code.
 */
function warmFigures(rows, [scenario, metric], baseline) {
  const row = rows.find((r) => r.scenario === scenario && r.metric === metric);
  if (!row?.values[baseline]?.length) return "";
  const figures = SUBJECTS.filter((c) => row.values[c]?.length).map(
    (c) => `${c} ${fmt(median(row.values[c]))} (${ratio(row, c, baseline).toFixed(2)}x)`,
  );
  return ` In this run, warm (row "${metric}"): ws ${fmt(median(row.values[baseline]))}, ${figures.join(", ")}.`;
}

/** Markdown section: each target, the figures, the ratio and the verdict per subject column. */
export function targetsSection(rows, columns, params, baseline = "ws") {
  const subjects = SUBJECTS.filter((c) => columns.includes(c));
  const lines = [
    `| Target | ws | ${subjects.map((c) => `${c} | ratio | verdict`).join(" | ")} |`,
    `|---|---:|${subjects.map(() => "---:|---:|---").join("|")}|`,
  ];
  const misses = [];
  for (const target of TARGETS) {
    const [scenario, metric] = target.row(params);
    const row = rows.find((r) => r.scenario === scenario && r.metric === metric);
    const base = row?.values[baseline]?.length ? fmt(median(row.values[baseline])) : "-";
    const missedBy = [];
    const cells = subjects.map((column) => {
      if (!row?.values[column]?.length) return "- | - | not run";
      const r = ratio(row, column, baseline);
      const isMet = target.atLeast !== undefined ? r >= target.atLeast : r <= target.atMost;
      if (!isMet) missedBy.push(column);
      return `${fmt(median(row.values[column]))} | ${r.toFixed(2)}x | ${isMet ? "**met**" : "missed"}`;
    });
    lines.push(`| ${target.title} | ${base} | ${cells.join(" | ")} |`);
    if (missedBy.length) misses.push({ target, missedBy });
  }
  const why = misses
    .map(({ target, missedBy }) => {
      const by = missedBy.map((c) => `\`${c}\``).join(", ");
      const extra = target.warmRow ? warmFigures(rows, target.warmRow(params), baseline) : "";
      return `- **${target.title}** (missed by ${by}): ${target.missed}${extra}`;
    })
    .join("\n");
  return `${lines.join("\n")}\n\n${misses.length ? `Why a target is missed:\n\n${why}\n` : "Every target is met.\n"}`;
}
