#!/usr/bin/env node
// What does a connection cost the client? Hosts one contestant's client in this process and
// its server in a child (bench/lib/server-host.mjs), opens N connections (100 in flight, as
// the connect scenario), closes them, and repeats: prints the client's CPU per connection
// (process.cpuUsage) and connections/s for each round. Round 1 is what the bench's connect
// scenario measures (a fresh load generator: nothing compiled yet); the connect scenario's
// connections/s are bound by this cost where it is above the server's. With --prof <file>,
// round 1 is also recorded in a V8 CPU profile (summarise it with profile/top-functions.mjs).
//
//   node bench/profile/client-connect.mjs [contestant=switchboard] [n=1000] [rounds=3] [--prof out.cpuprofile]
//
// Build dist/ first for the Switchboard contestants (npm run build). Nothing listens
// beyond 127.0.0.1.
import { fileURLToPath } from "node:url";
import { contestantModule } from "../lib/contestants.mjs";
import { parseToolArgs, startCpuProfile } from "../lib/cpu-profile.mjs";
import { killAllChildren, sleep, startChild } from "../lib/proc.mjs";

const { profFile, positional } = parseToolArgs(process.argv.slice(2));
const [name = "switchboard", nArg = "1000", roundsArg = "3"] = positional;
const n = Number(nArg);
const env = { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" };
Object.assign(process.env, env); // for this process's ws copies too
const host = fileURLToPath(new URL("../lib/server-host.mjs", import.meta.url));
const server = await startChild(host, [name, "websocket"], { env, label: `server:${name}` });
const { connect } = await import(contestantModule(name, "client.mjs"));

async function round() {
  const conns = [];
  let started = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (started < n) {
      started++;
      conns.push(await connect({ host: "127.0.0.1", port: server.ready.port, mode: "ack" }));
    }
  };
  await Promise.all(Array.from({ length: 100 }, worker));
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  for (const conn of conns) conn.close();
  return { us: (cpu.user + cpu.system) / n, user: cpu.user / n, cps: (n / ms) * 1000 };
}

try {
  for (let i = 0; i < Number(roundsArg); i++) {
    const profiler = profFile !== undefined && i === 0 ? await startCpuProfile() : undefined;
    const r = await round();
    await profiler?.stop(profFile);
    console.log(
      `round ${i + 1}: client ${r.us.toFixed(0)} us/conn (user ${r.user.toFixed(0)}), ${r.cps.toFixed(0)} conn/s`,
    );
    await sleep(300);
  }
} finally {
  killAllChildren();
}
process.exit(0);
