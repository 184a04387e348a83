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
      "per emit) saturates its core first (see its CPU row) while our server has headroom. " +
      "Our client (`switchboard` column) sends the replies to the packets of one read in " +
      "one write and costs ~16 us of CPU per round trip against ~21-25 us for the `ws` " +
      "client (`bench/profile/client-echo.mjs`).",
  },
  {
    id: "echo-cpu",
    title: "echo: server CPU per round trip <= 1.05x ws",
    row: () => ["echo-throughput", "server CPU us / round trip"],
    atMost: 1.05,
    missed:
      "With socket.io-client every emit arrives in its own TCP segment, so the server reads " +
      "and writes more often per round trip than with our client, which batches (0.66-0.70x ws " +
      "in the same run). Connection-state recovery (on by default, off in Socket.IO) costs " +
      "the rest: the per-session ack ledger of exactly-once emits keeps the last 1,000 " +
      "answers of every socket (old-generation garbage collection), plus offsets on every " +
      "emit. Server profile with socket.io-client (`BENCH_CPU_PROF=<dir> node " +
      "bench/profile/client-echo.mjs switchboard-sioc`): the write system call ~16 %, " +
      "Socket.IO decode ~10 % and encode ~9 % (mostly JSON.parse/stringify), garbage " +
      "collection ~6 %. With `BENCH_SB_RECOVERY=off` the server measured 0.85x ws (session " +
      "2).",
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
      "The ratio moves with the machine: 0.76x (`switchboard-sioc`) in session 2's full " +
      "run, where ws needed 14.5 us per delivery; 0.9-1.1x on this session's machine, where " +
      "ws needs 16-21 us. Alternated builds of session 2's last commit and of this " +
      "session's commits (`bash bench/run.sh --scenarios broadcast --contestants " +
      "ws,switchboard-sioc --reps 1`; 7 runs of the old build, 15 of newer ones) gave " +
      "15.7-18.8 against 17.0-21.0 us per delivery, with ws at 16.0-21.4 us in the same " +
      "runs: ratios 0.78-1.03x (mean 0.91x) against 0.79-1.27x (mean 1.01x), perhaps a " +
      "~10 % regression that the noise does not let us place: three alternated pairs of " +
      "the old build and the first commit that changed the server's per-socket path " +
      "(c5b1e77) gave 0.95-1.03x against 0.79-1.07x. Below 0.75x reliably needs fewer " +
      "system calls than deliveries, i.e. delaying " +
      "messages past their turn (Nagle-like), which we do not do.",
  },
  {
    id: "burst-dps",
    title: "fan-out burst: deliveries/s >= 4x ws",
    row: (p) => [broadcastTitle(p, "burst"), "deliveries/s"],
    atLeast: 4,
    missed:
      "The server's send loop takes ~25-50 ms for 100,000 deliveries (one write per " +
      "connection); the rest of the time is the client processes parsing what arrived, and " +
      "socket.io-client's parser is the slowest part (`switchboard` with our client: 5.1x).",
  },
  {
    id: "rss",
    title: "memory: RSS per idle connection <= 1.15x ws",
    row: (p) => ["idle-memory", `RSS KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.15,
    missed:
      "RSS is the old generation (the JS heap, next row) plus the young generation's pages " +
      "plus native memory (`bench/profile/mem-breakdown.mjs`, 5,000 connections, per " +
      "connection): ws 8.1 KB = 3.1 old + 3.2-3.7 young + 1.6 native; ours ~11 KB = 4.0 old " +
      "+ 5.2 young + 1.6 native. V8 grows the young generation to its maximum for both; how " +
      "much of it stays resident follows the garbage made during the connect burst. Ours " +
      "fell from 20.7 to 17.7 KB per handshake this session (synchronous namespace join, " +
      "flush queue keeping its capacity, no join callbacks); ws makes 11.0 KB. Adding " +
      "garbage to the ws server shows where the pages level off: 3.5 KB of young pages per " +
      "connection at 11 KB of garbage, 4.7 KB at 13.3 KB, 5.1-5.2 KB from 15.6 KB on. Ours " +
      "is on that plateau, so RSS only drops near 12-13 KB per handshake, which means " +
      "cutting Node's and ws's work for the second round trip (reading the CONNECT frame, " +
      "the second write).",
  },
  {
    id: "heap",
    title: "memory: JS heap per idle connection <= 1.3x ws",
    row: (p) => ["idle-memory", `JS heap KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.3,
    missed:
      "Heap snapshot diff (`bench/profile/heap-per-conn.mjs`, 3,000 connections): about 1.3 " +
      "KB per connection more than ws: our per-connection objects (Engine.IO session, " +
      "WebSocket transport, client, namespace socket, handshake: ~570 B), Node's cached " +
      "peer address (88 B, kept for `handshake.address` after a disconnect), the request " +
      "headers kept for `socket.handshake`/`socket.request` (~130 B), ws's receive buffer " +
      "grown by the CONNECT frame (~98 B; ws's idle clients never send), more JIT code " +
      "(~190 B, not per connection), and entries in four more maps than ws's one set. This " +
      "session removed the own-room entry of the room index, the copied handshake fields, " +
      "and one shared string for the common handshake URL (1.52x -> 1.47x). Further cuts " +
      "change formats or merge layers (a recovery pid that contains the socket id; the " +
      "client merged into the engine session).",
  },
  {
    id: "cps",
    title: "connect: connections/s >= 0.9x ws",
    row: () => ["connect-rate", "connections/s"],
    atLeast: 0.9,
    missed:
      "A Socket.IO connection is two round trips (WebSocket upgrade, then the CONNECT " +
      "packet and its answer) where a ws connection is one, on both sides: the load " +
      "generator's client also pays the second round trip, and with 100 handshakes in " +
      "flight the client process is as busy as the server (client CPU per connection " +
      "~0.8-1.2 ms for ours, 0.5-0.75 ms for the ws client, measured side by side). The run " +
      "starts from a fresh server, so it is mostly cold code (see the CPU row).",
  },
  {
    id: "connect-cpu",
    title: "connect: server CPU per handshake <= 1.2x ws",
    row: () => ["connect-rate", "server CPU us / connection"],
    atMost: 1.2,
    missed:
      "The CONNECT round trip alone puts the floor above the target: raw ws plus one round " +
      "trip (`bench/profile/connect-cpu.mjs ws --join`) costs 1.25-1.35x ws. Our two writes " +
      "per handshake (the 101 answer with the open packet, then the CONNECT answer) cost " +
      "~60 us of system time against ws's one of ~25 us, and reading the peer address ~10 " +
      "us. Warmed up (connect-cpu.mjs) ours went from 396 to 360 us this session; cold " +
      "(`--cold`, as the scenario's fresh server runs) from 876 to 832 us, in many pieces " +
      "of 3-7 us each: the namespace join is now synchronous, without callbacks, and the " +
      "upgrade is answered without callbacks when there is no `allowRequest`.",
  },
  {
    id: "latency",
    title: "latency: p50 <= 1.15x ws",
    row: () => ["latency", "p50 us"],
    atMost: 1.15,
    missed:
      "One client, one message at a time: both processes' work and four system calls add " +
      "up, and the ratio moves with the machine: 1.17x / 1.09x in session 2's full run (ws " +
      "p50 240 us), 1.3-1.4x in this session's (ws p50 160-200 us, ours about the same as " +
      "before). Alternated builds of session 2's last commit and this one (`bash " +
      "bench/run.sh --scenarios broadcast,latency --contestants " +
      "ws,switchboard-sioc,switchboard --reps 1`, twice each) gave the same p50 for both " +
      "builds within the spread. Our server spends ~9 us more per round trip than ws " +
      "(Socket.IO decode and encode, ack bookkeeping) and socket.io-client more than the ws " +
      "client; Socket.IO's own server shows the same p50 as ours with the same client.",
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
