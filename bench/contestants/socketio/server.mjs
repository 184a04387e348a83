// Contestant "socketio": the Socket.IO 4.8 server, one transport per run (websocket
// unless the scenario asks for polling), no compression.
// 'echo' replies through the ack callback when the client asked for one, otherwise
// emits 'echo' back to the sender. 'join' joins a room and acks.
import { createServer } from "node:http";
import { Server } from "socket.io";

/** Starts the server on host:port (0 = any free port); resolves once listening. */
export async function start({ host, port, transport = "websocket" }) {
  const httpServer = createServer();
  const io = new Server(httpServer, {
    transports: [transport],
    serveClient: false,
    perMessageDeflate: false,
    httpCompression: false,
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
    close: () => new Promise((resolve) => io.close(() => resolve())),
  };
}
