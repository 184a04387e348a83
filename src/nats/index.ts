/**
 * `switchboard/nats`: run several Switchboard servers as one, through NATS core pub/sub.
 *
 * Same semantics as `switchboard/redis`: broadcasts, rooms, acks across nodes,
 * `fetchSockets`, `socketsJoin`/`socketsLeave`, `disconnectSockets`, `serverSideEmit` with
 * acks, heartbeat-based node liveness, fail-fast errors while NATS is unreachable and
 * recovery when it returns. Messages are MessagePack, in socket.io-adapter's cluster format.
 *
 * ```ts
 * import { connect } from "@nats-io/transport-node";
 * import { Server } from "switchboard";
 * import { createNatsAdapter } from "switchboard/nats";
 *
 * const nc = await connect({ servers: "nats://localhost:4222", maxReconnectAttempts: -1 });
 * const io = new Server(3000, { adapter: createNatsAdapter(nc) });
 * ```
 */
export {
  createNatsAdapter,
  encodeSubjectToken,
  NatsAdapter,
  type NatsAdapterOptions,
  type NatsConnection,
  type NatsMessage,
} from "./nats-adapter.js";
