#!/usr/bin/env node
// Where does a paced broadcast delivery's server CPU go: our JavaScript or the kernel?
// Hosts one contestant's server in this process, connects `clients` clients (two load-generator
// children) joined to one room, then runs `rounds` rounds of the bench's paced fan-out
// (`messages` broadcasts, setImmediate after each) and prints, per round, the server's CPU per
// delivery split into user and system time (process.cpuUsage). System time is the write
// system calls, which on loopback include the receiving side's TCP work and wake-ups.
//
//   node bench/profile/fanout-cpu.mjs [contestant=switchboard] [clients=1000] [messages=100] [rounds=4] [--burst] [--prof out.cpuprofile]
//
// With --prof, round PROF_ROUND (environment, 0-based, default 1) is recorded in a V8 CPU
// profile of the server (summarise it with profile/top-functions.mjs). Build dist/ first for
// the Switchboard contestants (npm run build). Nothing listens beyond 127.0.0.1.
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { nowMs } from "../lib/clock.mjs";
import { parseToolArgs, startCpuProfile } from "../lib/cpu-profile.mjs";
import { hostServer, startLoadgen } from "../lib/in-process.mjs";
import { broadcastPayload } from "../lib/payload.mjs";
import { killAllChildren, sleep } from "../lib/proc.mjs";

const args = process.argv.slice(2);
const { profFile, positional } = parseToolArgs(args);
const isBurst = args.includes("--burst");
const [name = "switchboard", clientsArg = "1000", messagesArg = "100", roundsArg = "4"] =
  positional;
const clients = Number(clientsArg);
const messages = Number(messagesArg);
const server = await hostServer(name);
const gens = [await startLoadgen(name, server.port), await startLoadgen(name, server.port)];
const fmt = (x) => x.toFixed(2);
const bodies = Array.from({ length: messages }, (_, i) => broadcastPayload(i, 100));

try {
  const half = Math.floor(clients / 2);
  await Promise.all(
    gens.map((g, i) =>
      g.rpc("connect", { n: i === 0 ? half : clients - half, room: "bench" }, 100_000),
    ),
  );
  for (let round = 0; round < Number(roundsArg); round++) {
    await Promise.all(gens.map((g) => g.rpc("armBroadcast", { count: messages })));
    await sleep(200);
    const waits = gens.map((g) => g.rpc("awaitBroadcast", { timeoutMs: 60_000 }, 70_000));
    const profiler =
      profFile !== undefined && round === Number(process.env.PROF_ROUND ?? 1)
        ? await startCpuProfile()
        : undefined;
    const t0 = nowMs();
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < messages; i++) {
      server.broadcast("bench", "bcast", bodies[i]);
      if (!isBurst) await yieldToLoop();
    }
    const got = await Promise.all(waits);
    const cpu = process.cpuUsage(cpu0);
    const ms = nowMs() - t0;
    await profiler?.stop(profFile);
    const received = got.reduce((a, g) => a + g.received, 0);
    if (received !== clients * messages)
      throw new Error(`${received} of ${clients * messages} deliveries`);
    console.log(
      `round ${round + 1}: server ${fmt((cpu.user + cpu.system) / received)} us/delivery (user ${fmt(cpu.user / received)}, system ${fmt(cpu.system / received)}), ${((received / ms) * 1000).toFixed(0)} deliveries/s`,
    );
  }
} finally {
  await Promise.all(gens.map((g) => g.kill()));
  await Promise.race([server.close(), sleep(2000)]);
  killAllChildren();
}
process.exit(0);
