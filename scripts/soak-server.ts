// The server side of `npm run soak`: a Switchboard server in its own process, so its
// memory is measured alone. Reports its RSS and heap to the parent over IPC.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "../src/server/index.js";

const http = createServer();
const io = new Server(http, { pingInterval: 2000, pingTimeout: 2000 });
let events = 0;
io.on("connection", (socket) => {
  socket.join(`room-${Math.floor(Math.random() * 10)}`);
  socket.on("work", (n: number, ack: (v: number) => void) => {
    events++;
    ack(n);
  });
});
const fanout = setInterval(
  () => io.to(`room-${Math.floor(Math.random() * 10)}`).emit("news", Date.now()),
  50,
);
http.listen(0, "127.0.0.1", () => {
  process.send?.({ type: "ready", port: (http.address() as AddressInfo).port });
});
process.on("message", (msg: { type: string }) => {
  if (msg.type === "stats") {
    globalThis.gc?.();
    const mem = process.memoryUsage();
    process.send?.({
      type: "stats",
      rss: mem.rss,
      heap: mem.heapUsed,
      sockets: io.sockets.sockets.size,
      events,
    });
  } else if (msg.type === "stop") {
    clearInterval(fanout);
    io.close().then(() => process.exit(0));
  }
});
process.on("disconnect", () => process.exit(0));
