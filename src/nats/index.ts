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
 *
 * `createNatsJetStreamAdapter(nc, jetstream(nc), await jetstreamManager(nc))` (with
 * `@nats-io/jetstream` and a nats-server running JetStream) sends the cluster messages
 * through a JetStream stream that also keeps recent packets, and keeps sessions in a second
 * stream, so connection-state recovery works on another node or after a restart.
 */

export {
  createNatsJetStreamAdapter,
  NatsJetStreamAdapter,
  type NatsJetStreamAdapterOptions,
} from "./jetstream-adapter.js";
export type {
  JetStreamClient,
  JetStreamConsumer,
  JetStreamManager,
  JetStreamMessage,
  JetStreamMessages,
} from "./jetstream-types.js";
export {
  createNatsAdapter,
  encodeSubjectToken,
  NatsAdapter,
  type NatsAdapterOptions,
  type NatsConnection,
  type NatsMessage,
} from "./nats-adapter.js";
