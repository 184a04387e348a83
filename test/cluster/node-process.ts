/**
 * One Switchboard server node as its own process, for the multi-process cluster test. Run
 * with `node --import tsx test/cluster/node-process.ts` and the environment:
 * `BROKER` (`redis` or `nats`), `BROKER_URL`, `NODE_NAME`.
 *
 * It listens on 127.0.0.1 port 0, reports `{ ready: port }` over IPC, and answers the
 * parent's IPC commands (see {@link Command}) with `{ id, result }` or `{ id, error }`.
 * Sockets get `data.name` and join the rooms of their `auth`; the server-side event
 * "whoami" answers the node's name; a client's "node" event is answered with it too.
 */
import type { AdapterConstructor } from "../../src/adapter/adapter.js";
import { createNatsAdapter } from "../../src/nats/index.js";
import { createRedisAdapter } from "../../src/redis/index.js";
import type { Server } from "../../src/server/index.js";
import { startServer } from "../support/harness.js";
import { TIMING } from "./cluster-harness.js";
import { natsConnection } from "./nats-fixture.js";
import { redisClient } from "./redis-fixture.js";

/** What the parent may ask. */
export type Command =
  | { id: number; cmd: "serverCount" }
  | { id: number; cmd: "emit"; ev: string; args: unknown[] }
  | { id: number; cmd: "fetchSockets" }
  | { id: number; cmd: "whoami" };

const name = process.env.NODE_NAME ?? "node";
const url = process.env.BROKER_URL ?? "";

async function adapter(): Promise<AdapterConstructor> {
  if (process.env.BROKER === "nats") return createNatsAdapter(await natsConnection(url), TIMING);
  const [pub, sub] = await Promise.all([redisClient(url), redisClient(url)]);
  return createRedisAdapter(pub, sub, TIMING);
}

async function run(io: Server, command: Command): Promise<unknown> {
  switch (command.cmd) {
    case "serverCount":
      return io.sockets.adapter.serverCount();
    case "emit":
      return io.emit(command.ev, ...command.args);
    case "fetchSockets": {
      const sockets = await io.fetchSockets();
      return sockets.map((s) => (s.data as { name: string }).name).sort();
    }
    case "whoami":
      return ((await io.serverSideEmitWithAck("whoami")) as string[]).sort();
  }
}

const server = await startServer({ adapter: await adapter() });
server.io.on("connection", (socket) => {
  const auth = socket.handshake.auth as { name?: string; rooms?: string[] };
  socket.data = { name: auth.name };
  socket.join(auth.rooms ?? []);
  socket.on("node", (ack: (answer: string) => void) => ack(name));
});
server.io.on("whoami", (ack: (answer: string) => void) => ack(name));
process.on("message", (command: Command) => {
  run(server.io, command).then(
    (result) => process.send?.({ id: command.id, result }),
    (err: unknown) => process.send?.({ id: command.id, error: String(err) }),
  );
});
process.on("disconnect", () => process.exit(0)); // the parent went away
process.send?.({ ready: server.port });
