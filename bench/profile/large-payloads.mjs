#!/usr/bin/env node
// What do large messages cost? Socket.IO (its server and socket.io-client) and Switchboard
// (our server and our client) side by side in this one process, one connection each: a
// payload of `kb` kilobytes emitted with an ack, one at a time, client to server ("up") and
// server to client ("down"), as a string, a Buffer and an object of small records, over
// WebSocket and over HTTP long-polling. Prints the mean milliseconds and the CPU
// milliseconds (this process: both ends) per round trip of `n` round trips after 5 unmeasured
// ones. The bench's scenarios all move ~100-byte messages; this is where a cost per byte
// shows (session 8 found a Buffer's toJSON run on every binary emit of our client, and
// base64 built one character at a time on polling, with it).
//
//   node bench/profile/large-payloads.mjs [kb=1024] [n=30]
//
// Build dist/ first (npm run build). Nothing listens beyond 127.0.0.1.
import { createServer } from "node:http";

const [kbArg = "1024", nArg = "30"] = process.argv.slice(2);
const bytes = Number(kbArg) * 1024;
const n = Number(nArg);

const record = { id: 123456, user: "user-0042", text: "abcdefghijklmnopqrstuvwx" };
const payloads = {
  string: "x".repeat(bytes),
  Buffer: Buffer.alloc(bytes, 7),
  object: {
    list: Array.from({ length: Math.ceil(bytes / JSON.stringify(record).length) }, () => record),
  },
};

const stacks = {
  "socket.io": async () => [
    (await import("socket.io")).Server,
    (await import("socket.io-client")).io,
  ],
  switchboard: async () => [
    (await import("../../dist/server/index.js")).Server,
    (await import("../../dist/client/index.js")).io,
  ],
};

/** One server and one connected client of `stack` over `transport`, echoing sizes back. */
async function open(stack, transport) {
  const [Server, io] = await stacks[stack]();
  const http = createServer();
  const server = new Server(http, {
    transports: [transport],
    maxHttpBufferSize: 2 * bytes + 1e6,
    ...(stack === "switchboard" ? { rateLimit: false } : {}),
  });
  let peer;
  server.on("connection", (socket) => {
    peer = socket;
    socket.on("up", (_data, ack) => ack(1));
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  const client = io(`http://127.0.0.1:${http.address().port}`, {
    transports: [transport],
    forceNew: true,
    reconnection: false,
  });
  client.on("down", (_data, ack) => ack(1));
  await new Promise((resolve) => client.once("connect", resolve));
  while (peer === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
  return {
    up: (data) => client.emitWithAck("up", data),
    down: (data) => peer.emitWithAck("down", data),
    close: async () => {
      client.disconnect();
      await server.close();
    },
  };
}

/** Mean wall and CPU milliseconds per round trip of `send(data)`. */
async function measure(send, data) {
  for (let i = 0; i < 5; i++) await send(data);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await send(data);
  const cpu = process.cpuUsage(cpu0);
  return [(performance.now() - t0) / n, (cpu.user + cpu.system) / 1000 / n];
}

const fmt = (x) => x.toFixed(2).padStart(7);
console.log(`${kbArg} KB payloads, ${n} round trips each: ms per round trip (CPU ms, both ends)`);
console.log("transport  payload  way  |  socket.io          |  switchboard        | ratio");
for (const transport of ["websocket", "polling"]) {
  const conns = {};
  for (const stack of Object.keys(stacks)) conns[stack] = await open(stack, transport);
  for (const [name, data] of Object.entries(payloads)) {
    for (const way of ["up", "down"]) {
      const [sioMs, sioCpu] = await measure(conns["socket.io"][way], data);
      const [sbMs, sbCpu] = await measure(conns.switchboard[way], data);
      console.log(
        `${transport.padEnd(10)} ${name.padEnd(8)} ${way.padEnd(4)} | ${fmt(sioMs)} (${fmt(sioCpu)}) | ${fmt(sbMs)} (${fmt(sbCpu)}) | ${(sbMs / sioMs).toFixed(2)}x`,
      );
    }
  }
  for (const conn of Object.values(conns)) await conn.close();
}
process.exit(0);
