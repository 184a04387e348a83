#!/usr/bin/env node
// Micro-benchmark: the cost of one small write to each of N loopback TCP connections, one
// round per event-loop turn ("paced" fan-out), by write method. Server CPU (user + system)
// per write, from process.cpuUsage(). The readers run in a child process.
//
//   node bench/micro/fanout-write.mjs [connections=1000] [rounds=100]
import { fork } from "node:child_process";
import { connect, createServer } from "node:net";
import { setImmediate as nextTurn } from "node:timers/promises";

const [nArg = "1000", roundsArg = "100"] = process.argv.slice(2);
const n = Number(nArg);
const rounds = Number(roundsArg);

if (process.argv[4] === "child") {
  // Reader: open n connections to the port, read and discard.
  const port = Number(process.argv[5]);
  let open = 0;
  for (let i = 0; i < n; i++) {
    const s = connect(port, "127.0.0.1", () => {
      if (++open === n) process.send("ready");
    });
    s.on("data", () => {});
  }
} else {
  const sockets = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const child = fork(new URL(import.meta.url).pathname, [
    nArg,
    roundsArg,
    "child",
    String(server.address().port),
  ]);
  await new Promise((r) => child.once("message", r));
  const frame = Buffer.concat([Buffer.from([0x81, 126, 0, 128]), Buffer.alloc(128, 0x61)]);
  const variants = {
    "write(buffer), nodelay": (s) => s.write(frame),
    "cork+2 writes+uncork, nodelay": (s) => {
      s.cork();
      s.write(frame.subarray(0, 4));
      s.write(frame.subarray(4));
      s.uncork();
    },
    "write(buffer), nagle": (s) => s.write(frame),
  };
  for (const [name, fn] of Object.entries(variants)) {
    for (const s of sockets) s.setNoDelay(!name.includes("nagle"));
    for (let r = 0; r < 10; r++) {
      for (const s of sockets) fn(s);
      await nextTurn();
    }
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let r = 0; r < rounds; r++) {
      for (const s of sockets) fn(s);
      await nextTurn();
    }
    const cpu = process.cpuUsage(cpu0);
    const writes = rounds * sockets.length;
    console.log(
      `${name.padEnd(32)} ${((cpu.user + cpu.system) / writes).toFixed(2)} us/write (user ${(cpu.user / writes).toFixed(2)}, system ${(cpu.system / writes).toFixed(2)}), ${(performance.now() - t0).toFixed(0)} ms`,
    );
  }
  child.kill();
  for (const s of sockets) s.destroy();
  server.close();
}
