// Child process hosting one node of the cluster scenario: a server with a Redis adapter.
//   node lib/cluster-node.mjs <contestant> <redis-url>
// socketio: Socket.IO 4.8 + @socket.io/redis-adapter (pub/sub); switchboard-sioc and
// switchboard: our Server (dist/) + createRedisAdapter from dist/redis (pub/sub, the same
// channels and format). Both: node-redis clients (one publisher, one subscriber), websocket
// only, no compression, handlers as in contestants/<name>/server.mjs ('echo', 'join').
// Reports { type: 'ready', port }, then serves: broadcast, serverCount, connections, stop.
import { createServer } from "node:http";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { createClient } from "redis";
import { send, serveRpc } from "./child.mjs";
import { nowMs } from "./clock.mjs";
import { broadcastPayload } from "./payload.mjs";

const [name, redisUrl] = process.argv.slice(2);
const host = "127.0.0.1"; // loopback only

const pub = createClient({ url: redisUrl });
const sub = pub.duplicate();
for (const client of [pub, sub]) client.on("error", (err) => console.error(`${name}: ${err}`));
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
const options = {
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
};
let io;
if (name === "socketio") {
  const { Server } = await import("socket.io");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  io = new Server(http, { ...options, serveClient: false, adapter: createAdapter(pub, sub) });
} else {
  const { Server } = await import("../../dist/server/index.js");
  const { createRedisAdapter } = await import("../../dist/redis/index.js");
  const recovery =
    process.env.BENCH_SB_RECOVERY === "off" ? { connectionStateRecovery: false } : {};
  io = new Server(http, { ...options, ...recovery, adapter: createRedisAdapter(pub, sub) });
}

io.on("connection", (socket) => {
  socket.on("echo", (data, ack) => {
    if (typeof ack === "function") ack(data);
    else socket.emit("echo", data);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(true);
  });
});

await new Promise((resolve, reject) => {
  http.once("error", reject);
  http.listen({ host, port: 0, backlog: 1024 }, resolve);
});

serveRpc(
  {
    /** `count` broadcasts to `room`, yielding to the event loop after each (as server-host's). */
    async broadcast({ room, count, bytes = 100, event = "bcast", yieldEvery = 1 }) {
      const bodies = Array.from({ length: count }, (_, i) => broadcastPayload(i, bytes));
      const t0 = nowMs();
      for (let i = 0; i < count; i++) {
        io.to(room).emit(event, bodies[i]);
        if (yieldEvery > 0 && (i + 1) % yieldEvery === 0) await yieldToLoop();
      }
      return { t0, t1: nowMs() };
    },
    serverCount: () => io.of("/").adapter.serverCount(),
    connections: () => io.engine.clientsCount,
    async stop() {
      await Promise.race([io.close(), new Promise((r) => setTimeout(r, 2000))]);
      setImmediate(() => process.exit(0));
      return true;
    },
  },
  { maxLifetimeMs: Number(process.env.BENCH_CHILD_MAX_MS ?? 240_000), label: `node:${name}` },
);

send({ type: "ready", port: http.address().port, pid: process.pid });
