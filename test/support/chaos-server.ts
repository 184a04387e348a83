// A Switchboard server process for the restart and crash chaos tests: Redis Streams adapter
// (so sessions and missed packets outlive the process), handler runs reported to the
// parent. Driven by test/support/chaos-node.ts.
import { createServer } from "node:http";
import { createRedisStreamsAdapter } from "../../src/redis/index.js";
import { Server } from "../../src/server/index.js";
import { redisClient } from "../cluster/redis-fixture.js";

const port = Number(process.env.PORT);
const client = await redisClient(process.env.REDIS_URL!);
const http = createServer();
const io = new Server(http, {
  // CHAOS_ADAPTER=memory runs the same scenario on the default adapter (no restart then).
  // CHAOS_SNAPSHOTS=off: no live session snapshots (a crashed process then leaves nothing).
  ...(process.env.CHAOS_ADAPTER === "memory"
    ? {}
    : {
        adapter: createRedisStreamsAdapter(client, {
          sessionSnapshots: process.env.CHAOS_SNAPSHOTS !== "off",
        }),
      }),
  // CHAOS_RECOVERY=off shows the tests can fail: without recovery, messages are lost.
  connectionStateRecovery:
    process.env.CHAOS_RECOVERY === "off"
      ? false
      : { maxPackets: 100_000, maxDisconnectionDuration: 60_000 },
  pingInterval: 1000,
  pingTimeout: 1000,
});

// Each handler run goes to the parent before the ack is sent ([clientKey, seq] pairs), so a
// SIGKILL loses no report of a run whose ack left (unless the IPC pipe was full).
const report = (key: number, seq: number): void => {
  process.send?.({ type: "handled", runs: [[key, seq]] });
};

io.on("connection", (socket) => {
  const key = Number(socket.handshake.auth.key);
  if (!socket.recovered) socket.join(`user:${key}`);
  socket.on("m", (seq: number, ack: (n: number) => void) => {
    report(key, seq);
    ack(seq);
  });
});

interface Command {
  type: "emit" | "stop";
  /** For "emit": sequence numbers [from, to) to each of clients 0..clients-1. */
  from?: number;
  to?: number;
  clients?: number;
}

process.on("message", async (msg: Command) => {
  if (msg.type === "emit") {
    for (let key = 0; key < msg.clients!; key++) {
      for (let seq = msg.from!; seq < msg.to!; seq++) io.to(`user:${key}`).emit("m", seq);
    }
  } else if (msg.type === "stop") {
    // A graceful restart: sockets are closed with "server shutting down" and their sessions
    // persisted in Redis before the process exits.
    await io.close();
    await client.close();
    process.send?.({ type: "stopped" });
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
http.listen(port, "127.0.0.1", () => process.send?.({ type: "ready" }));
