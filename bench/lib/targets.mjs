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

/** Each target: the row it reads, the bound on the ratio to ws, and why it may be missed. */
export const TARGETS = [
  {
    id: "echo-rps",
    title: "echo: round trips/s >= 1.0x ws",
    row: () => ["echo-throughput", "round trips/s"],
    atLeast: 1.0,
    missed:
      "End to end, so the client process counts: with `switchboard-sioc` the load generator " +
      "(socket.io-client: engine.io-client + socket.io-parser + ack bookkeeping, one write " +
      "per emit) saturates its core first (see its CPU row) while our server has headroom; " +
      "across session 4's three full runs it measured 0.86-1.01x. Our client " +
      "(`switchboard` column) sends the replies to the packets of one read in one write and " +
      "costs ~16-18 us of CPU per round trip against ~21-25 us for the `ws` client " +
      "(`bench/profile/client-echo.mjs`).",
  },
  {
    id: "echo-cpu",
    title: "echo: server CPU per round trip <= 1.05x ws",
    row: () => ["echo-throughput", "server CPU us / round trip"],
    atMost: 1.05,
    missed:
      "With socket.io-client every emit arrives in its own TCP segment, so the server reads " +
      "and writes more often per round trip than with our client, which batches (0.57-0.69x " +
      "ws in the same runs). Across session 4's three full runs `switchboard-sioc` " +
      "measured 0.89-1.10x: the ratio is within the machine's noise of the bound. " +
      "Connection-state recovery (on by default, off in Socket.IO) costs the rest: the " +
      "per-session ack ledger of exactly-once emits keeps the last 1,000 answers of every " +
      "socket, plus offsets on every emit. Server profile with socket.io-client " +
      "(`BENCH_CPU_PROF=<dir> node bench/profile/client-echo.mjs switchboard-sioc`): the " +
      "write system call ~16 %, Socket.IO decode ~10 % and encode ~9 % (mostly " +
      "JSON.parse/stringify), garbage collection ~6 %.",
  },
  {
    id: "paced-cpu",
    title: "fan-out paced: server CPU per delivery <= 0.75x ws",
    row: (p) => [broadcastTitle(p, "paced"), "server CPU us / delivery"],
    atMost: 0.75,
    missed:
      "Paced means one message per event-loop turn, so every contestant pays one `write` " +
      "system call per delivery: in the profile the native `writeBuffer` (the system call " +
      "and the loopback TCP send it runs, with TCP_NODELAY as ws sets it) is 45-70 % of the " +
      "server's time, about as much as ws spends in its `writev`; our JavaScript per " +
      "delivery (room lookup, shared frame, bound check, one Buffer write) is about 1 us. " +
      "What is left above the system call is Node's stream machinery per write (a write " +
      "request object, the stream state, an after-write tick), which ws pays too and only a " +
      "native server (uWebSockets.js: 0.67-0.74x ws in the same runs) avoids. Session 4's " +
      "three full runs: 0.94-1.02x. Below 0.75x reliably needs fewer system calls " +
      "than deliveries, i.e. delaying messages past their turn (Nagle-like), which we do " +
      "not do.",
  },
  {
    id: "burst-dps",
    title: "fan-out burst: deliveries/s >= 4x ws",
    row: (p) => [broadcastTitle(p, "burst"), "deliveries/s"],
    atLeast: 4,
    missed:
      "The server's send loop takes ~40-55 ms for 100,000 deliveries (one write per " +
      "connection); the rest of the time is the client processes parsing what arrived, and " +
      "socket.io-client's parser is the slowest part: `switchboard-sioc` measured 3.1-4.4x " +
      "across session 4's three full runs, our client 4.9-5.4x.",
  },
  {
    id: "rss",
    title: "memory: RSS per idle connection <= 1.15x ws",
    row: (p) => ["idle-memory", `RSS KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.15,
    missed:
      "RSS is the old generation (the JS heap, next row) plus the young generation's pages " +
      "plus native memory (`bench/profile/mem-breakdown.mjs`, 5,000 connections, per " +
      "connection): ws 8.2 KB = 2.7 old + 3.3 young + 1.7 native; ours 10.5 KB = 3.4 old " +
      "+ 4.8 young + 1.7 native (10.7 KB with socket.io-client). V8 grows the young generation to its maximum for both; how " +
      "much of it stays resident follows the garbage made during the connect burst: the " +
      "young pages, not our objects, make most of the gap. Ours fell from 20.7 to 17.7 KB " +
      "of garbage per handshake in session 3 (ws makes 11.0 KB); adding garbage to the ws " +
      "server shows where the pages level off: 3.5 KB of young pages per connection at 11 " +
      "KB of garbage, 4.7 KB at 13.3 KB, 5.1-5.2 KB from 15.6 KB on. RSS only drops near " +
      "12-13 KB per handshake, which means cutting Node's and ws's work for the upgrade " +
      "itself.",
  },
  {
    id: "heap",
    title: "memory: JS heap per idle connection <= 1.3x ws",
    row: (p) => ["idle-memory", `JS heap KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.3,
    missed:
      "Session 4 cut 430-560 B per idle connection (this row: 4.04 -> 3.61 KB with " +
      "socket.io-client, 4.04 -> 3.48 KB with our client; ratio 1.46x -> 1.30x / 1.26x; " +
      "found with heap snapshot diffs, `bench/profile/heap-per-conn.mjs`): the handshake object is built on first read; the recovery pid is the " +
      "socket id followed by a random part, so no map by pid; the in-memory adapter keeps " +
      "no entry for a socket only in its own room; fewer fields in the engine session and " +
      "its transport; the heartbeat in time buckets instead of a Map entry per session; the " +
      "kept headers as an exact-size values array with a shared names list, without " +
      "Sec-WebSocket-Key; ws's read buffer let go after the first message and each pong; " +
      "the peer address read without Node caching an object on the socket. " +
      "`switchboard-sioc` sits on the bound (1.29-1.31x across runs): its client sends a " +
      "CONNECT frame, which leaves one more Node stream-state property array per connection " +
      "(40 B) and more compiled code than our client's handshake join. What remains above " +
      "ws: our per-connection objects (Engine.IO session, transport, client, namespace " +
      "socket, request snapshot: ~430 B), three random ids (session, socket, pid: 120 B) " +
      "and two more maps (sessions, namespace sockets).",
  },
  {
    id: "cps",
    title: "connect: connections/s >= 0.9x ws",
    row: () => ["connect-rate", "connections/s"],
    atLeast: 0.9,
    missed:
      "A Socket.IO connection is two round trips (WebSocket upgrade, then the CONNECT " +
      "packet and its answer) where a ws connection is one, on both sides: with " +
      "socket.io-client (`switchboard-sioc`) the load generator also pays the second round " +
      "trip. Our client joins its namespace in the handshake (`sb_connect`, README: one " +
      "round trip, no CONNECT packet); its cost per connection is now ~1.07 ms of client " +
      "CPU against ~0.95 ms for the ws client (no permessage-deflate offer, ws's own " +
      "events), and with 100 handshakes in flight the client process is as busy as the " +
      "server. The run starts from a fresh server, so it is mostly cold code (see the CPU " +
      "row); session 4's three full runs gave 0.61-0.75x for our client.",
  },
  {
    id: "connect-cpu",
    title: "connect: server CPU per handshake <= 1.2x ws",
    row: () => ["connect-rate", "server CPU us / connection"],
    atMost: 1.2,
    missed:
      "Warmed up (`node bench/profile/connect-cpu.mjs`) our server now costs 1.17x ws per " +
      "handshake with our client (263 against 225 us: the handshake join saves the CONNECT " +
      "read and the second write, 345 us before) and 1.5x with socket.io-client, whose " +
      "CONNECT round trip alone puts the floor above the bound (raw ws plus one round trip, " +
      "`connect-cpu.mjs ws --join`: 1.25-1.35x). The scenario runs a fresh server, mostly " +
      "cold code: V8 interprets our Engine.IO session, client, namespace join and CONNECT " +
      "answer for the first connections, in many pieces of 3-10 us each (cold profile, " +
      "`connect-cpu.mjs --cold --prof`), where ws runs only its upgrade; session 4's " +
      "three full runs gave 1.53-1.70x (ours) and 1.87-2.05x (socket.io-client).",
  },
  {
    id: "latency",
    title: "latency: p50 <= 1.15x ws",
    row: () => ["latency", "p50 us"],
    atMost: 1.15,
    missed:
      "One client, one message at a time: both processes' work and four system calls add " +
      "up, and the ratio moves with the run far more than with the code: alternating session 4's " +
      "first commit and its last (`bash bench/run.sh --scenarios latency " +
      "--contestants ws,switchboard-sioc,switchboard --reps 1`, twice each) gave 0.93x and " +
      "1.55x for the same old build, 1.30x and 1.35x for the new one, and the three full " +
      "runs 1.24-1.54x. Per round trip our server spends ~9 us more than ws (Socket.IO " +
      "decode and encode, ack bookkeeping), and socket.io-client more than the ws client; " +
      "Socket.IO's own server shows about the same p50 as ours.",
  },
];

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
      return `- **${target.title}** (missed by ${by}): ${target.missed}`;
    })
    .join("\n");
  return `${lines.join("\n")}\n\n${misses.length ? `Why a target is missed:\n\n${why}\n` : "Every target is met.\n"}`;
}
