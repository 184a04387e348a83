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
      "End to end, so the client process counts: with `switchboard-sioc` the load generator " +
      "(socket.io-client: engine.io-client + socket.io-parser + ack bookkeeping, one write " +
      "per emit, then a tick before the next batch) saturates its core (see its CPU row: " +
      "~98 %) while our server runs at ~70 % of one. Against Socket.IO's own server the same " +
      "client does a little better (0.76x ws against 0.69-0.71x in alternated runs, " +
      "recovery on or off alike), at 1.3x our server's CPU per round trip: probably because a " +
      "server that answers later lets the client read more frames per wake-up. Session 4's runs, on a " +
      "slower machine where the ws client was the slower side, gave 0.86-1.01x. Our client " +
      "(`switchboard` column) sends the replies to the packets of one read in one write and " +
      "reads frames itself (its own Node WebSocket client since session 5): 1.84x ws on " +
      "session 5's AMD EPYC, 1.17-1.30x on session 6's Intel Xeon, where the ws client is " +
      "faster (ws 157,000-163,000 round trips/s against 99,000) and `switchboard-sioc` " +
      "0.55-0.57x.",
  },
  {
    id: "echo-cpu",
    title: "echo: server CPU per round trip <= 1.05x ws",
    row: () => ["echo-throughput", "server CPU us / round trip"],
    atMost: 1.05,
    missed:
      "With socket.io-client the load generator is the bottleneck (~98 % of a core) and " +
      "cannot keep our server busy (~62-70 % of one), so the server reads and writes about " +
      "once per round trip where ws's, saturated, reads many frames per system call; with " +
      "our client, which batches, the row is 0.47-0.72x ws. On top of that, " +
      "connection-state recovery (on by default, off in Socket.IO): with " +
      "`BENCH_SB_RECOVERY=off` the row measured 6.34-6.40 us against ws's 6.2-6.4 in " +
      "session 6's runs (on the bound). Recovery's cost is the per-session ack ledger " +
      "(exactly-once acks: the responses of the last 1,000 acked emits are kept for " +
      "resends), i.e. garbage collection: with a 10-entry window 6.35-6.64 us, with 1,000 " +
      "7.10-7.34. Session 6 made the ledger keep each response as the ACK packet's text " +
      "(one string for the collector instead of an object graph): 6.88 against 7.23 us in " +
      "the same run, about half of that cost. The row moves with the machine: 1.02-1.03x on " +
      "session 5's AMD EPYC, 1.18-1.24x on session 6's Intel Xeon. Server profile with " +
      "socket.io-client (`BENCH_CPU_PROF=<dir> bash bench/run.sh --scenarios echo " +
      "--contestants switchboard-sioc`): the write system call ~20-25 %, Socket.IO decode " +
      "and encode ~10 % each (mostly JSON.parse/stringify, which cost what ws's JSON " +
      "handling costs per message: 0.92 against 0.89 us in a micro-benchmark), garbage " +
      "collection ~10 %. Session 12's full runs, on a slower AMD EPYC VM: 0.92x on Node 20, " +
      "1.23x on Node 24.",
  },
  {
    id: "paced-cpu",
    title: "fan-out paced: server CPU per delivery <= 0.75x ws",
    row: (p) => [broadcastTitle(p, "paced"), "server CPU us / delivery"],
    atMost: 0.75,
    missed:
      "Paced means one message per event-loop turn, so every contestant pays one `write` " +
      "system call per delivery, and the kernel's part (the loopback TCP send and waking " +
      "the reader) is most of a delivery's cost: in the profile the native `writeBuffer` is " +
      "45-70 % of the server's time. Session 5 tested what is left above it: writing each " +
      "frame through the socket's handle directly (Node's internal WriteWrap, bypassing the " +
      "stream) measured 0.87-0.93x ws either way in 4 alternated runs, so Node's stream " +
      "machinery is not the gap; our JavaScript per delivery (room lookup, shared frame, " +
      "bound check) is about 1 us. uWebSockets.js, native, is at ~0.7x. Runs: 0.94-1.02x " +
      "(session 4, ws engine), 0.89-0.99x (session 5). Session 6 split the cost " +
      "(`node bench/profile/fanout-cpu.mjs <contestant> 1000 100 4`, us per delivery, " +
      "user + system): ws 0.8-1.8 + 2.4-3.6, ours 1.0-1.6 + 2.7-3.1, uWebSockets.js " +
      "0.0-0.4 + 2.3-2.9; `strace -c` counts one `write` (ours) or `writev` (ws) per " +
      "delivery and nothing else per delivery. Our system time alone (rounds 2-4: 2.7-3.0 " +
      "us) is 0.65-0.75x ws's total (3.9-4.3 us), so 0.75x would leave 0.1-0.4 us of user " +
      "time per delivery: a native server's, not a JavaScript call into a socket. Below 0.75x reliably needs fewer system calls than " +
      "deliveries, i.e. delaying messages past their turn (Nagle-like), which we do not do. " +
      "Full runs since: 0.67x with socket.io-client and 0.70-0.78x with our client " +
      "(session 10, Intel Xeon VM), 0.96x and 0.87x (session 11, AMD EPYC VM, where " +
      "uWebSockets.js measured 0.67x), 0.94x and 0.98x (session 12, a slower AMD EPYC VM, " +
      "uWebSockets.js 0.64x). Session 12's split on that VM (`fanout-cpu.mjs <contestant> " +
      "1000 100 4`, rounds 2-4 of two runs, user + system): ws 2.1-3.2 + 6.1-8.3, ours " +
      "2.3-3.1 + 5.4-7.3, uWebSockets.js 0.3-1.0 + 5.2-7.6, so our system time alone is " +
      "0.5-0.8x ws's total. Writing each frame with `fs.writeSync` on the socket's file " +
      "descriptor, no stream and no write request object (an experiment, not kept), left the " +
      "native write at 78 % of the server's profile and the CPU per delivery within the " +
      "run-to-run spread (7.6-10.9 us against 7.5-11.8).",
  },
  {
    id: "burst-dps",
    title: "fan-out burst: deliveries/s >= 4x ws",
    row: (p) => [broadcastTitle(p, "burst"), "deliveries/s"],
    atLeast: 4,
    missed:
      "The server's send loop takes ~10-50 ms for 100,000 deliveries (one write per " +
      "connection); the rest of the time is the client processes parsing what arrived, and " +
      "socket.io-client's parser is the slowest part: `switchboard-sioc` measured 3.1-4.4x " +
      "across session 4's runs, 4.2-4.9x in session 5's (AMD EPYC) and 2.7x on session 6's " +
      "Intel Xeon, where the ws client parses faster (ws's own deliveries/s went from " +
      "122,000 to 232,000); our client 4.9-8.1x, 5.5x on the Xeon. Our server's CPU per " +
      "burst delivery is 0.1x ws's with either client. Session 10 (Intel Xeon VM) had our " +
      "client at 4.81x in one full run and 3.16x in the next (repetitions 2.9x, 4.2x and " +
      "4.5x), and alternated partial runs (`bash bench/run.sh --scenarios broadcast " +
      "--contestants ws,switchboard --reps 2`) gave 3.5-5.6x whether the server was built " +
      "from that session's commits or the previous session's: our send loop took 18-22 ms " +
      "of each burst, ws's 490-670 ms, and the clients' parsing decides the rest. Session " +
      "12's full runs (a slower AMD EPYC VM): with socket.io-client 3.67x on Node 20 and " +
      "3.75x on Node 24, with our client 7.91x and 8.47x.",
  },
  {
    id: "rss",
    title: "memory: RSS per idle connection <= 1.15x ws",
    row: (p) => ["idle-memory", `RSS KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.15,
    missed:
      "RSS is the old generation (the JS heap, next row) plus the young generation's pages " +
      "plus native memory (`bench/profile/mem-breakdown.mjs`, 5,000 connections, per " +
      'connection). With `ws` reading our WebSockets (`wsEngine: "ws"`) ours was 10.2-10.7 ' +
      "KB against ws's 8.2 (1.25-1.32x): more old generation, and more young pages touched " +
      "by the garbage of each handshake. The engine's own WebSocket reader (session 5, the " +
      "default) keeps one small object per connection instead of ws's WebSocket, Receiver " +
      "and Sender: 7.8-8.4 KB (0.96-1.05x).",
  },
  {
    id: "heap",
    title: "memory: JS heap per idle connection <= 1.3x ws",
    row: (p) => ["idle-memory", `JS heap KB / conn @ ${memorySteps(p)} conns`],
    atMost: 1.3,
    missed:
      'With `ws` reading our WebSockets (`wsEngine: "ws"`) an idle connection held ' +
      "3.48-3.61 KB (1.26-1.30x ws, after session 4's cuts found with " +
      "`bench/profile/heap-per-conn.mjs`); the engine's own reader (session 5, the default) " +
      "holds 2.2-2.3 KB (0.80-0.82x): no ws WebSocket, Receiver (a Writable stream with its " +
      "state and listeners) and Sender per connection.",
  },
  {
    id: "cps",
    title: "connect: connections/s >= 0.9x ws",
    row: () => ["connect-rate", "connections/s"],
    atLeast: 0.9,
    missed:
      "A Socket.IO connection is two round trips (WebSocket upgrade, then the CONNECT " +
      "packet and its answer) where a ws connection is one, and the load generator's CPU " +
      "bounds the rate: socket.io-client costs ~820 us of client CPU per connection in a " +
      "fresh process against ~400 for the ws client " +
      "(`bench/profile/client-connect.mjs`), so `switchboard-sioc` measures what " +
      "socket.io-client can open (Socket.IO's own server: 0.55x). Our client joins its " +
      "namespace in the handshake (`sb_connect`) and, since session 5, uses its own Node " +
      "WebSocket client (no http.ClientRequest, no ws objects): ~350 us per connection, " +
      "1.05-1.10x ws's rate.",
  },
  {
    id: "connect-cpu",
    title: "connect: server CPU per handshake <= 1.2x ws",
    row: () => ["connect-rate", "server CPU us / connection"],
    warmRow: () => ["connect-rate", "server CPU us / connection, warm"],
    atMost: 1.2,
    missed:
      "The scenario opens 1,000 connections to a fresh server, so it measures cold code: " +
      "V8's interpreter, its baseline compiler and the optimising compiler's own work. " +
      "`node bench/profile/connect-cpu.mjs <contestant> 1000 4 --cold`, four rounds of " +
      "1,000 (us per handshake, session 5): ws 200-211, 143-168, 130-132, 92-122; ours " +
      "266-285, 257-260, 138-142, 92-97 (from the third thousand on within 1.06x of ws); " +
      "with socket.io-client 333-342, 271-298, 172-195, 115-137 (its CONNECT packet is one " +
      "more read, decode and write per connection). Session 6 ran the rounds with V8's " +
      "tiers switched off: with TurboFan off (`node --no-opt ...`) ws costs 83-106 us and " +
      "ours 114-151, so the optimising compiler's work is a large part of a cold round for " +
      "both (ws 143-160, ours 196-266 with it on); with the interpreter alone (`--no-opt " +
      "--no-sparkplug`) ws 118-137 against ours 196-219. A Socket.IO handshake runs ~1.5x " +
      "the JavaScript of a ws one (the Engine.IO session, the Socket.IO client and socket, " +
      "the namespace join and the CONNECT answer on top of the WebSocket upgrade), spread " +
      "over many functions, none above ~10 % of the path in the interpreter-only profile. " +
      "The builtin WebSocket took this row from 1.80x to 1.30-1.36x (ours) and from 2.03x " +
      "to 1.46-1.86x (socket.io-client). Until session 6 the row read the server's CPU from " +
      "/proc in 10 ms clock ticks, i.e. 10 us steps over 1,000 handshakes (one run gave " +
      "1.21x from 170 against 140); it now asks the server for process.cpuUsage() " +
      "(microseconds): 1.37x and 1.75x in session 6's check. Session 7 (AMD EPYC, six " +
      "rounds): ws 221, 159, 148, 158, 127, 117; ours 320, 338, 174, 105, 124, 105. Since " +
      "session 7 the scenario also measures the same server warm (its fourth thousand). " +
      "Session 8 profiled the first thousand (`connect-cpu.mjs <contestant> 1000 1 --cold " +
      "--prof <file>`): the upgrade's inclusive time is ours 225 ms against ws's 102, both " +
      "with the write of the 101 response; the Engine.IO session (request snapshot, open " +
      "packet, heartbeat: 53 ms), the Socket.IO connection (namespace join, CONNECT answer: " +
      "45 ms) and the write (54 against 43 ms) make the difference, none of their functions " +
      "above 6 ms. Leaving out the request snapshot entirely (its headers and peer address, " +
      "as an experiment) saved ~17 us of a cold handshake, within the run-to-run spread. " +
      "Session 9 counted the calls (`node bench/profile/call-counts.mjs <ws|switchboard> " +
      "1000 connect`, V8's precise coverage): per handshake our server runs 124 functions of " +
      "its own in 147 calls (127 in 169 before that session's trims), ws and the contestant " +
      "11 in 11; Node's own functions 171 in 574 calls against 153 in 551. A cold handshake " +
      "pays for each of those functions in the interpreter before V8 compiles it; trimming " +
      "22 calls (loops instead of callbacks in the header snapshot) did not move the row " +
      "measurably (five alternated `connect-cpu.mjs --cold` pairs: 528-637 against 492-678 " +
      "us). Session 10 (Intel Xeon VM) counted instructions, which repeat within a few " +
      "percent where time spreads by 20-40 % (`node bench/profile/instructions.mjs " +
      "<ws|switchboard> 1000 connect`: valgrind's callgrind, counting every thread of the " +
      "server process only while the first 1,000 handshakes to a fresh server open): ws " +
      "668,000 per handshake, ours 923,000-952,000 (1.38-1.43x, as the CPU time's 1.3-1.5x " +
      "on that machine), first-level cache misses and mispredicted branches in the same " +
      "proportion. By callgrind's function names, V8's optimising compiler (TurboFan) is " +
      "about a third of a cold handshake for both, 301,000 against 232,000 instructions, " +
      "then the interpreter's and baseline code's builtins (106,000 against 66,000), the " +
      "inline caches (134,000 against 112,000 in builtins, 90,000 against 80,000 in the " +
      "runtime) and the rest of V8 (73,000 against 52,000); garbage collection 42,000 " +
      "against 41,000 (94,000 in a run where a full collection fell inside the 1,000). " +
      "Session 10 then wrote the upgrade's turn (the 101 response, the open packet and the " +
      "CONNECT answer, all short ASCII) as one latin1 string, as ws writes its 101 " +
      "response, instead of three Buffers joined by Buffer.concat: V8 no longer compiles " +
      "Node's Buffer functions for the handshake, and it costs 888,000-894,000 instructions " +
      "(1.33x ws); in time, eight alternated `connect-cpu.mjs --cold` runs gave a median of " +
      "359 us against 384 before and ws's 273. Cutting out one function at a time (an " +
      "upper bound: each made trivial) moved the count by less than the run-to-run spread " +
      "for the id generator and the path and namespace checks, by 3-5 % for the header " +
      "snapshot (a median of 776,000 against 802,000 once the query was parsed once), and " +
      "by 9 % for the query parser: parsing the same handshake URL again for every client " +
      "made V8 interpret it, then spend 6-12 ms compiling it. parseQuery now keeps the parsed query of up to 16 " +
      "URLs that carry only the Engine.IO parameters: 801,000-828,000 instructions per " +
      "handshake (1.20-1.24x ws's 664,000-668,000), and in time a median of 330 us against 372 " +
      "before and ws's 257 (1.28x; eight alternated runs). The `ws` package is no longer " +
      "loaded by a server on the builtin engine (0.6 MB less heap at startup), which did " +
      "not move this row measurably. Session 11 (AMD EPYC VM), where ws counts 655,000-659,000 " +
      "instructions per cold handshake and ours 785,000 at the start (1.20x): the WebSocket " +
      "handshake reads the request's `rawHeaders` through a layout kept per kind of client " +
      "(the header names in the order sent), so Node no longer builds `req.headers` for it " +
      "(744,000); the `sb_connect` confirmation is one shared object per namespace whose " +
      "open-packet JSON is kept, and the handshake URL's namespace is read once " +
      "(728,000-734,000, 1.11x ws). In time, eight alternated `connect-cpu.mjs --cold` runs " +
      "of each: median 258 us at the session's start, 232 after, ws 202 (1.28x, then 1.15x); " +
      "partial bench runs (`bash bench/run.sh --scenarios connect --contestants " +
      "ws,switchboard --reps 5`) 1.19x and 1.23x, and 1.29x in the full run. Time stays " +
      "above the instruction ratio: by callgrind's cache model we also miss the first-level " +
      "caches 1.22x as often as ws, and our handshake runs 123 functions of our own against " +
      "ws's 11 (`call-counts.mjs`), so its code is spread over more memory. The rest of the " +
      "instruction gap is spread over V8's inline caches, calls and property loads in " +
      "baseline code; TurboFan's share is now the same as ws's (228,000 against 226,000). " +
      "Taking the peer address out (an upper bound: it is one `getpeername` call, which ws " +
      "does not make) saved 8,000 instructions and no measurable time. Split by layer (the " +
      "profile-only contestant `engine`: our EngineServer alone, opened by the ws client; " +
      "`instructions.mjs engine 1000 connect`): the Engine.IO handshake alone counts " +
      "645,000 instructions, 0.98x ws's, so the gap is the " +
      "Socket.IO layer on top (the client, the namespace join, the socket and its own room, " +
      "the CONNECT answer): ~85,000, of which connection-state recovery's pid and offsets " +
      "are 18,000 (`BENCH_SB_RECOVERY=off`: 712,000). On Node 24 the same " +
      "count gives ours 471,000-482,000 and ws 375,000-379,000 (1.26x): Node 24's V8 " +
      "compiles functions with Maglev after a few hundred calls, 247 of them during our " +
      "first 1,000 handshakes against 153 for ws (`node --trace-opt`), and the compilers " +
      "(Maglev, TurboFan and their share of the runtime) are about 60,000 of the 100,000 " +
      "instructions between us. Session 12 (AMD EPYC VM, slower than session 11's: ws's " +
      "echo server CPU 14.2 us per round trip against 9.9): 737,000 instructions per cold " +
      "handshake against ws's 664,000 (1.11x), TurboFan 228,000 against 230,000; the rest " +
      "of the difference is our code in baseline and compiled form (+36,000), property and " +
      "call inline caches (+13,000) and the interpreter's builtins (+14,000), with no single " +
      "V8 function above 9,400 (`LoadIC`). `connect-cpu.mjs` now splits the server's CPU by " +
      "thread: in three alternated cold rounds, main thread 208-239 us per handshake against " +
      "ws's 166-209, V8's helper threads 71-79 against 59-75, so the difference is on the " +
      "main thread. With socket.io-client the same count is 913,000: its CONNECT packet is " +
      "one more read, frame, decode and write per connection, and V8 compiles that receive " +
      "path during the first 1,000 handshakes (TurboFan 323,000 instructions per handshake " +
      "against 228,000). A partial run with 5 repetitions (`bash bench/run.sh --scenarios " +
      "connect --contestants ws,switchboard --reps 5`) gave 1.13x; this full run's single " +
      "cold rounds spread by ~30 %.",
  },
  {
    id: "latency",
    title: "latency: p50 <= 1.15x ws",
    row: () => ["latency", "p50 us"],
    warmRow: () => ["latency", "p50 us, warm"],
    atMost: 1.15,
    missed:
      "Since session 6 the server and the client are pinned to one CPU for this scenario. " +
      "Unpinned, a run's p50 was bimodal on this 2-core VM (~35-55 or ~85-100 us for the " +
      "same code; uWebSockets.js, the fastest, 2x slower than ws): a message to a process " +
      "on the other, idle core waits for that core to wake, and the guest's haltpoll " +
      "governor halts at once. Pinned, runs spread by a few microseconds and the row " +
      "measures the software's path, both processes' CPU per round trip, cold (round trips " +
      "200-2,200 of a fresh pair). With socket.io-client the client is the difference: " +
      "`node bench/profile/latency-cpu.mjs <contestant> 2000 1 200` gives ~100 us of client " +
      "CPU per round trip for socket.io-client against 70-80 for ours and 60-65 for the ws " +
      "client, the servers within ~10 % of each other. With our client the rest is how soon " +
      "V8 optimises each side: `node bench/profile/latency-curve.mjs <ws|switchboard>` " +
      "(both in one process, us per round trip per window of 1,000 from a cold start) gives " +
      "ws 40-47, 20-30, 15-19 and ours 43-72, 36-46, 22-43; under `node --no-opt` (no " +
      "TurboFan) both cost the same (ws 39-46, ours 37-46) and warm (after 20,000) ours is " +
      "1.08x. ws's path is a few large functions, which V8's budget-based tiering optimises " +
      "within ~1,000 calls; ours is many small ones that get there about 1,000 round trips " +
      "later. Session 6 also made our Node client write the replies of a read when the read " +
      "ends instead of after a microtask (p50 47.6 against 50.8 us unpinned, same run). " +
      "Since session 7 the scenario also measures 2,000 round trips warm (after 5,000 more). " +
      "Session 7 (AMD EPYC) traced the tiering (`node --trace-opt`, windows of 250 round " +
      "trips): ws's path is optimised by ~1,500 round trips, ours by ~2,500-3,000 (last: " +
      "both WebSocket readers' frame functions, the ack ledger, the engine's send queue). " +
      "With the compiler on the main thread (`--no-concurrent-recompilation`, pinned, " +
      "windows of 500) ws took 116-126, 98-110, 81-90, then 28-29 us per round trip and " +
      "ours 115-117, 115-121, 132, 106-107, 59-60, 40-42, 26-27, in 62-63 TurboFan jobs " +
      "(148-161 ms, Node's own startup included) against 97 (193-196 ms). Halving V8's " +
      "interrupt budget (`--interrupt-budget=33792`) gets ours optimised sooner but makes " +
      "its first 1,000 round trips slower (190-227 us): the compiler's work on the one CPU " +
      "is the cost, not only how late it starts. Pinning only the main threads, so that " +
      "V8's compiler threads may use the other core, changed nothing (1.41-1.44x either " +
      "way). No single function carries the delay: keeping any one of the late ones out of " +
      "TurboFan (`--turbo-filter=-<name>`: the frame readers, the ledger, the send queue, " +
      "`#onEvent`, `#writeAck`) leaves the curve as it is. It is spread over ~20 functions " +
      "of 100-400 bytes of bytecode, each of which V8 11.3 optimises after 1,000-2,500 calls " +
      "(3 + size/150 ticks of 67,584 bytecode bytes, counted at each return) unless an " +
      "optimised caller inlines it first. Since session 8 our Node client reads through " +
      "net's `onread` (no stream events, no Buffer per read): its CPU per round trip in the " +
      "measured window fell from 90-135 to 70-90 us (`latency-cpu.mjs`), the ws client's " +
      "65-110, and the difference is now the server's: with every ws copy in pure " +
      "JavaScript as in the bench (the profile tools' server ran with bufferutil before " +
      "session 8), ours 82-84 us per round trip against ws's 64-66 in alternated runs. " +
      "With TurboFan off (`node --no-opt`) ours 65-66 against ws's 60: V8's optimising " +
      "compiler costs our server more in this window than it saves, and ws's less, so most " +
      "of the gap is how late and how much V8 compiles our many small functions; the rest " +
      "is more JavaScript per message. Its profile under `--no-opt` (8,000 round trips, " +
      "every ws copy " +
      "in pure JavaScript as in the bench): our library's own functions 26 us per round " +
      "trip against 18 for ws's receiver, sender, masking and the contestant's handler, " +
      "Node's stream code 20 against 20. Of our 26, JSON parsing and serialising take ~6 " +
      "(ws's handler ~4); the rest is spread over ~40 functions of the read, decode, " +
      "dispatch, ack and frame path, none above 3.6 us (the reply's frame, with " +
      "Buffer.allocUnsafe's checks): the Engine.IO and Socket.IO layers a ws message does " +
      "not cross. Connection-state recovery's ack ledger is 2-5 % of the window " +
      "(`BENCH_SB_RECOVERY=off`, alternated). Session 9 counted the calls " +
      "(`node bench/profile/call-counts.mjs <ws|switchboard> 2000 latency`, V8's precise " +
      "coverage): per round trip our server runs 71 functions of its own in 77 calls, ws and " +
      "the contestant's handler 22 in 27; Node's own functions 75 in 101 calls against 73 in " +
      "112. Each of those functions is interpreted, then compiled on its own, which is the " +
      "cold cost above. On session 9's machine (an AMD EPYC VM 2-3x slower than session " +
      "8's) both full runs met this target with our client (0.99x, 0.84x) and missed it " +
      "with socket.io-client (1.26x, 1.36x). Sessions 10 and 11 counted instructions with " +
      "callgrind for round trips 1-1,000 of a fresh pair (`instructions.mjs <ws|switchboard> " +
      "1000 latency`): our server 248,000 per round trip against ws's 260,000-264,000, our " +
      "client 134,000 against the ws client's 244,000, and concluded that our server did no " +
      "more work. That was the wrong window: the bench measures round trips 200-2,200, and V8 " +
      "compiles most of both paths after the first 1,000. Session 12 counted the bench's " +
      "window (`node bench/profile/instructions.mjs <ws|switchboard> 2000 latency 200`): our " +
      "server 281,000 instructions per round trip against ws's 233,000 (1.20x), and V8's " +
      "optimising compiler (TurboFan, by callgrind's function names) is 157,000 of them " +
      "against 113,000, nearly all of the difference; the compiled and baseline code itself " +
      "runs 52,000 against 62,000. Under `node --trace-opt --no-concurrent-recompilation` V8 " +
      "compiles 19 of our functions inside the window (~66 ms of compiling: " +
      "`encodeSocketPacket`, the frame reader, `onSocketData`, `decodeCommonPacket`, " +
      "`#onEvent`, `frameText`, `#writeAck`, `containsBinary`, `#message`, ...) against 4 of " +
      "ws's (~10 ms): ws's receiver functions are large, so V8's budget-based tiering leaves " +
      "them in baseline code until ~2,300 round trips. `latency-cpu.mjs` now splits each " +
      "process's CPU by thread (/proc schedstat): per round trip in the window, our server's " +
      "main thread 86-107 us against ws's 64-86, V8's helper threads (the background " +
      "compiles) 42-49 against 24-30; with both processes pinned to one CPU, as in the bench, " +
      "those compiles take turns with the round trips. Our client counts 208,000 " +
      "instructions in the window against the ws client's 244,000 (callgrind on the client " +
      "process). `strace -c` counts the same system calls per round trip on each side for " +
      "both (one write, one read, 1.8 epoll_wait), but twice the `mprotect` calls (V8 " +
      "installing compiled code). The row itself is noisy: single runs spread by 50-63 %, " +
      "and a partial run with 5 repetitions (15 runs each, `bash bench/run.sh --scenarios " +
      "latency --contestants ws,switchboard --reps 5`) gave 1.03x where the full runs of " +
      "sessions 11 and 12 gave 1.15x and 1.16x.",
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
