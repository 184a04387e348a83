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
      "(socket.io-client: engine.io-client + socket.io-parser + ack bookkeeping) saturates its " +
      "core first (see its CPU row) while our server has headroom; the server-side target is " +
      "the CPU row below.",
  },
  {
    id: "echo-cpu",
    title: "echo: server CPU per round trip <= 1.05x ws",
    row: () => ["echo-throughput", "server CPU us / round trip"],
    atMost: 1.05,
    missed:
      "Connection-state recovery (on by default, off in Socket.IO) is what costs here. Profile " +
      "(ack mode): garbage collection ~13 % (the per-session ack ledger of exactly-once emits " +
      "keeps the last 1,000 answers of every socket: old-generation churn), Socket.IO event " +
      "dispatch with the ledger (`Socket#onEvent`, `AckLedger#admit`) ~9 %, the write system " +
      "call ~22 % (one per connection per event-loop turn), JSON.parse/stringify ~13 %. With " +
      "`BENCH_SB_RECOVERY=off` (same method, ws in the same run) the server needs 9.2-9.5 us " +
      "per round trip against ws's 10.8-10.9: 0.85x, the target met; the ledger and offsets " +
      "cost ~2 us per round trip.",
  },
  {
    id: "paced-cpu",
    title: "fan-out paced: server CPU per delivery <= 0.75x ws",
    row: (p) => [broadcastTitle(p, "paced"), "server CPU us / delivery"],
    atMost: 0.75,
    missed:
      "Paced means one message per event-loop turn, so every contestant pays one `write` " +
      "system call per delivery; in the profile the native `writeBuffer` (the system call and " +
      "the loopback TCP send it runs, with TCP_NODELAY as ws sets it) is 52-70 % of the server's " +
      "time, about as much as ws spends in its `writev`. Our JavaScript per delivery (room " +
      "lookup, shared frame, bound check, one Buffer write) is about 1 us; " +
      "`bench/micro/fanout-write.mjs` measures the system call alone at ~5 us of system time " +
      "per write. Below 0.75x needs fewer system calls than deliveries, i.e. delaying " +
      "messages past their turn (Nagle-like), which we do not do.",
  },
  {
    id: "burst-dps",
    title: "fan-out burst: deliveries/s >= 4x ws",
    row: (p) => [broadcastTitle(p, "burst"), "deliveries/s"],
    atLeast: 4,
    missed:
      "The server's send loop takes ~25 ms for 100,000 deliveries (one write per connection); " +
      "the rest of the time is the two client processes parsing what arrived.",
  },
  {
    id: "rss",
    title: "memory: RSS per idle connection <= 1.15x ws",
    row: (p) => ["idle-memory", `RSS KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.15,
    missed:
      "RSS is the old generation (the JS heap, next row) plus the young generation's pages " +
      "plus native memory (`bench/profile/mem-breakdown.mjs`, 5,000 connections, per " +
      "connection): ws 8.1 KB = 3.1 old + 3.2-3.7 young + 1.6 native; ours 11.2 KB = 4.1 " +
      "old + 5.2 young + 1.6 native. V8 grows the young generation to its maximum for both " +
      "(29 MB); how much of it is resident follows the bytes allocated during the connect " +
      "burst (~20 KB per handshake for ours against ~14 KB for ws, including its garbage), " +
      "so about 2 KB of the 3 KB gap is young-generation pages, 1 KB old space. The garbage " +
      "is mostly in the namespace join (Promise.all/then/async restore, ~1.6 KB), the flush " +
      "queue's array per turn and Node's stream and timer objects.",
  },
  {
    id: "heap",
    title: "memory: JS heap per idle connection <= 1.3x ws",
    row: (p) => ["idle-memory", `JS heap KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.3,
    missed:
      "Heap snapshot diff (`bench/profile/heap-per-conn.mjs`, 3,000 connections), bytes per " +
      "connection beyond ws's ~3.6 KB: the handshake request kept for `socket.handshake` and " +
      "`socket.request` (request snapshot, URL, headers object with the WebSocket key, " +
      "handshake object, Node's cached peer address: ~410 B, repeated header values already " +
      "shared), three ids (sid, socket id, recovery pid: 120 B), Engine.IO session + " +
      "WebSocket transport + client + namespace socket (~440 B), entries in six " +
      "per-server/namespace maps where ws has one set (~230 B), the app's two listeners kept " +
      "as [event, [fn]] lists (~110 B more than ws's emitter), ws's receive-buffer list grown " +
      "by the CONNECT packet (~100 B; ws's idle clients never send), an upgrade-time `error` " +
      "listener left on the TCP socket (64 B), more JIT code (~190 B, not per connection).",
  },
  {
    id: "cps",
    title: "connect: connections/s >= 0.9x ws",
    row: () => ["connect-rate", "connections/s"],
    atLeast: 0.9,
    missed:
      "A Socket.IO connection is two round trips (WebSocket upgrade, then the CONNECT packet " +
      "and its answer) where a ws connection is one, and the run starts from a fresh server, " +
      "so it is mostly cold code (see the CPU row); the load generator's socket.io-client " +
      "also costs more per connection than a bare ws client.",
  },
  {
    id: "connect-cpu",
    title: "connect: server CPU per handshake <= 1.2x ws",
    row: () => ["connect-rate", "server CPU us / connection"],
    atMost: 1.2,
    missed:
      "The CONNECT round trip alone puts the floor above the target: raw ws plus one round " +
      "trip (`bench/profile/connect-cpu.mjs ws --join`) costs 1.25-1.35x ws. Warmed up " +
      "(connect-cpu.mjs, rounds 2-5) ours is ~1.5x ws; the scenario's 1,000 connections to a " +
      "fresh server run mostly in V8's interpreter and baseline code, where our longer path " +
      "costs ~1.9x (connect-cpu.mjs --cold). The cold profile's top JavaScript is the " +
      "namespace join (its promise chain and async session restore, ~35 us), the engine's " +
      "request checks and upgrade callbacks, then ours (session, open packet, client); " +
      "reading the peer address (`getpeername`) ~5-10 us; 2 writes instead of 1.",
  },
  {
    id: "latency",
    title: "latency: p50 <= 1.15x ws",
    row: () => ["latency", "p50 us"],
    atMost: 1.15,
    missed:
      "One client, one message at a time: both processes' work and four system calls add up. " +
      "In the profiles our server spends ~9 us more per round trip than ws (Socket.IO decode " +
      "and encode, ack bookkeeping); the rest of the gap is the client library: Socket.IO's own " +
      "server shows the same p50 as ours with the same client, and with recovery off " +
      "(`BENCH_SB_RECOVERY=off`) the ratio stays ~1.5x.",
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
