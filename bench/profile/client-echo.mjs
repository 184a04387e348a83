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
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { fileURLToPath } from "node:url";
import { echoPayload } from "../lib/payload.mjs";
import { cpuSeconds, killAllChildren, sleep, startChild } from "../lib/proc.mjs";

const args = process.argv.slice(2);
const profIndex = args.indexOf("--prof");
const profFile = profIndex === -1 ? undefined : args[profIndex + 1];
const positional = args.filter(
  (a, i) => !a.startsWith("--") && (profIndex === -1 || i !== profIndex + 1),
);
const [name = "switchboard", modeArg = "default", secondsArg = "5"] = positional;
const seconds = Number(secondsArg);
const transport = args.includes("--polling") ? "polling" : "websocket";
const CLIENTS = transport === "polling" ? 50 : 100;
const WINDOW = 10;
const HOST = fileURLToPath(new URL("../lib/server-host.mjs", import.meta.url));

const client = await import(new URL(`../contestants/${name}/client.mjs`, import.meta.url));
const mode = modeArg === "default" ? client.meta?.echoModes?.[0] : modeArg;
const server = await startChild(HOST, [name, transport], {
  execArgv: [
    "--expose-gc",
    ...(process.env.BENCH_CPU_PROF
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`]
      : []),
  ],
  env: { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" },
  label: `server:${name}`,
});

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

const session = new Session();
try {
  await sleep(1000); // warm-up
  if (profFile !== undefined) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
  }
  const count0 = count;
  const cpu0 = process.cpuUsage();
  const serverCpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const serverUs = (cpuSeconds(server.pid) - serverCpu0) * 1e6;
  const done = count - count0;
  const ms = performance.now() - t0;
  if (profFile !== undefined) {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(profFile, JSON.stringify(profile));
  }
  running = false;
  const us = cpu.user + cpu.system;
  console.log(
    `${name}${mode ? `:${mode}` : ""}: ${Math.round((done / ms) * 1000)} round trips/s, client ${(us / done).toFixed(2)} us CPU / round trip (${((us / (ms * 1000)) * 100).toFixed(0)} % of a core), server ${(serverUs / done).toFixed(2)} us (${((serverUs / (ms * 1000)) * 100).toFixed(0)} %)`,
  );
} finally {
  for (const conn of conns) conn.close();
  // A profiled server must exit by itself to write its profile (SIGKILL would lose it).
  if (process.env.BENCH_CPU_PROF) {
    await server.rpc("stop", {}, 5000).catch(() => {});
    for (let i = 0; i < 100 && !server.exited; i++) await sleep(50);
  }
  await server.kill();
  killAllChildren();
}
process.exit(0);
