#!/usr/bin/env node
// How fast does a sequential round trip get as V8 warms up? Server and client in this one
// process (so the CPU per round trip is both sides' and the kernel's, with no scheduling
// between two processes), one connection, one 100 B echo at a time, from a cold start:
// prints the mean microseconds per round trip of each window of `size` round trips. The
// bench's latency scenario measures round trips 200-2,200 of a fresh pair of processes,
// i.e. the first two windows here. Run it under `node --no-opt` (no TurboFan) or
// `node --no-opt --no-sparkplug` (interpreter only) to see what the optimising tiers change.
//
//   node bench/profile/latency-curve.mjs [ws|switchboard] [windows=12] [size=1000]
//
// "ws": the ws contestant's server and the ws client (JSON {e, d} frames); "switchboard": our
// Server (recovery on, as by default; rateLimit off, since one in-process connection sends
// far more than its default 10,000 messages per second) and our client, acks as in the
// bench. Build dist/ first (npm run build). Nothing listens beyond 127.0.0.1.
import { createServer } from "node:http";
import { echoPayload } from "../lib/payload.mjs";

const [kind = "switchboard", windowsArg = "12", sizeArg = "1000"] = process.argv.slice(2);
const payload = echoPayload(100);
let onReply = () => {};
let send;
let stop;

if (kind === "ws") {
  process.env.WS_NO_BUFFER_UTIL = "1"; // as the bench's load generators
  const { start } = await import("../contestants/ws/server.mjs");
  const { WebSocket } = await import("ws");
  const server = await start({ host: "127.0.0.1", port: 0 });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}`, { perMessageDeflate: false });
  await new Promise((resolve) => ws.once("open", resolve));
  ws.on("message", () => onReply());
  send = () => ws.send(JSON.stringify({ e: "echo", d: payload }));
  stop = () => ws.terminate();
} else if (kind === "switchboard") {
  const { Server } = await import("../../dist/server/index.js");
  const { io } = await import("../../dist/client/index.js");
  const http = createServer();
  const server = new Server(http, {
    transports: ["websocket"],
    perMessageDeflate: false,
    rateLimit: false,
  });
  server.on("connection", (socket) => socket.on("echo", (data, ack) => ack(data)));
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  const socket = io(`http://127.0.0.1:${http.address().port}`, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
  });
  await new Promise((resolve) => socket.once("connect", resolve));
  const reply = () => onReply();
  send = () => socket.emit("echo", payload, reply);
  stop = () => socket.disconnect();
} else {
  throw new Error(`unknown contestant ${kind}: ws or switchboard`);
}

const means = [];
for (let w = 0; w < Number(windowsArg); w++) {
  const n = Number(sizeArg);
  let i = 0;
  const t0 = process.hrtime.bigint();
  await new Promise((resolve) => {
    onReply = () => (++i >= n ? resolve() : send());
    send();
  });
  means.push((Number(process.hrtime.bigint() - t0) / 1000 / n).toFixed(0));
}
console.log(`${kind}: us per round trip, windows of ${sizeArg}: ${means.join(" ")}`);
stop();
process.exit(0);
