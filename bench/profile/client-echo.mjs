#!/usr/bin/env node
// What does an echo round trip cost the client? The echo scenario's load generator is one
// process driving 100 connections, and on 2 cores it saturates its core before the server
// does: round trips/s is then the client library's figure. This hosts one contestant's
// server in a child (as the bench does) and its client in this process, runs the scenario's
// closed loop (100 connections x 10 in flight, 100-byte payload) for `seconds`, and prints
// round trips/s and the client's CPU (user + system, process.cpuUsage) per round trip. With
// --prof <file>, the measured window is recorded in a V8 CPU profile (summarise it with
// profile/top-functions.mjs); the profiler slows the client, so read the figures from a run
// without it. The server's CPU per round trip is printed too (from /proc); with
// BENCH_CPU_PROF=<dir> the server writes its own profile there when it stops, as in the bench.
//
// With --polling, the polling scenario's shape instead (50 connections x 10 in flight, both
// ends on HTTP long-polling only).
//
//   node bench/profile/client-echo.mjs [contestant=switchboard] [mode=default] [seconds=5] [--polling] [--prof out.cpuprofile]
//
// Build dist/ first for the Switchboard contestants (npm run build). Nothing listens
// beyond 127.0.0.1.
import { contestantModule } from "../lib/contestants.mjs";
import { parseToolArgs, startCpuProfile } from "../lib/cpu-profile.mjs";
import { echoPayload } from "../lib/payload.mjs";
import { cpuSeconds, killAllChildren, sleep } from "../lib/proc.mjs";
import { startServer, stopServer } from "../lib/scenarios.mjs";

const args = process.argv.slice(2);
const { profFile, positional } = parseToolArgs(args);
const [name = "switchboard", modeArg = "default", secondsArg = "5"] = positional;
const seconds = Number(secondsArg);
const transport = args.includes("--polling") ? "polling" : "websocket";
const CLIENTS = transport === "polling" ? 50 : 100;
const WINDOW = 10;

const client = await import(contestantModule(name, "client.mjs"));
const mode = modeArg === "default" ? client.meta?.echoModes?.[0] : modeArg;
const server = await startServer(name, transport);

const conns = [];
for (let i = 0; i < CLIENTS; i++)
  conns.push(await client.connect({ host: "127.0.0.1", port: server.ready.port, mode, transport }));

const payload = echoPayload(100);
let count = 0;
let running = true;
for (const conn of conns) {
  conn.onEchoReply(() => {
    count++;
    if (running) conn.sendEcho(payload);
  });
  for (let i = 0; i < WINDOW; i++) conn.sendEcho(payload);
}

try {
  await sleep(1000); // warm-up
  const profiler = profFile === undefined ? undefined : await startCpuProfile();
  const count0 = count;
  const cpu0 = process.cpuUsage();
  const serverCpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const serverUs = (cpuSeconds(server.pid) - serverCpu0) * 1e6;
  const done = count - count0;
  const ms = performance.now() - t0;
  await profiler?.stop(profFile);
  running = false;
  const us = cpu.user + cpu.system;
  console.log(
    `${name}${mode ? `:${mode}` : ""}: ${Math.round((done / ms) * 1000)} round trips/s, client ${(us / done).toFixed(2)} us CPU / round trip (${((us / (ms * 1000)) * 100).toFixed(0)} % of a core), server ${(serverUs / done).toFixed(2)} us (${((serverUs / (ms * 1000)) * 100).toFixed(0)} %)`,
  );
} finally {
  for (const conn of conns) conn.close();
  await stopServer(server);
  killAllChildren();
}
process.exit(0);
