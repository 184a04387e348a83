// Contestant "switchboard": our Server (src/server/, compiled to dist/ by
// `npm run build`), configured like the socketio contestant: one transport per run
// (websocket unless the scenario asks for polling), no compression.
// 'echo' replies through the ack callback when the client asked for one, otherwise
// emits 'echo' back to the sender. 'join' joins a room and acks.
// Everything else is Switchboard's default, including connection-state recovery, which
// is on by default in Switchboard (off in Socket.IO); BENCH_SB_RECOVERY=off turns it off.
// BENCH_SB_WS=ws reads WebSockets with the ws package instead of the builtin engine.
import { createServer } from "node:http";
import { Server } from "../../../dist/server/index.js";

/** Starts the server on host:port (0 = any free port); resolves once listening. */
export async function start({ host, port, transport = "websocket" }) {
  const httpServer = createServer();
  const io = new Server(httpServer, {
    transports: [transport],
    perMessageDeflate: false,
    httpCompression: false,
    ...(process.env.BENCH_SB_RECOVERY === "off" ? { connectionStateRecovery: false } : {}),
    ...(process.env.BENCH_SB_WS === "ws" ? { wsEngine: "ws" } : {}),
  });

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
    httpServer.once("error", reject);
    httpServer.listen({ host, port, backlog: 1024 }, resolve);
  });

  return {
    port: httpServer.address().port,
    broadcast(room, event, data) {
      io.to(room).emit(event, data);
    },
    connections: () => io.engine.clientsCount,
    close: () => io.close(),
  };
}
