/**
 * The cross-node operations of {@link ClusterAdapter} that wait for answers: broadcasts
 * with acks, `fetchSockets` and `serverSideEmit` with acks. Each publishes one request to
 * every node and registers it with {@link PendingRequests}, which knows which live nodes
 * still owe an answer and when to stop waiting.
 */
import { randomBytes } from "node:crypto";
import { type AdapterError, ErrorCode, TimeoutError } from "../errors.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import type { BroadcastOptions, SocketDetails } from "./adapter.js";
import {
  ClusterMessageType,
  type ClusterRequest,
  type ClusterResponse,
  fromWireSocket,
  toWireOptions,
  toWirePacket,
  type Unsent,
} from "./cluster-message.js";
import type { PendingRequests } from "./cluster-requests.js";

/** What the operations need of their adapter. */
export interface QueryContext {
  readonly requests: PendingRequests;
  /** The live nodes (other than this one), by uid. */
  readonly nodes: ReadonlyMap<string, number>;
  /** The default `requestsTimeout`. */
  readonly timeout: number;
  /** Publishes to every node; `onFailure` learns when that is impossible. */
  publish(message: Unsent<ClusterRequest>, onFailure: (error: AdapterError) => void): void;
}

/**
 * Asks the other nodes to deliver a broadcast with acks: each answers with how many of its
 * clients got it (`onExpected`), then with their acks (`onAck`) until the timeout.
 */
export function requestBroadcastAcks(
  ctx: QueryContext,
  packet: SocketPacket,
  opts: BroadcastOptions,
  onExpected: (count: number) => void,
  onAck: (args: unknown[]) => void,
): void {
  const requestId = newRequestId();
  const handlers = {
    onResponse: (message: ClusterResponse): boolean => {
      if (message.type === ClusterMessageType.BROADCAST_CLIENT_COUNT) {
        onExpected(message.data.clientCount);
        return true;
      }
      if (message.type === ClusterMessageType.BROADCAST_ACK) onAck([message.data.packet]);
      return false;
    },
    onGone: () => onExpected(0), // a gone node delivers to nobody: its count is 0
    onComplete: () => {},
    onTimeout: () => {},
  };
  const timeout = opts.flags.timeout ?? ctx.timeout;
  ctx.requests.add(requestId, ctx.nodes.keys(), timeout, handlers, {
    keepUntilTimeout: true,
    strict: true,
  });
  ctx.publish(
    {
      type: ClusterMessageType.BROADCAST,
      data: { packet: toWirePacket(packet), opts: toWireOptions(opts), requestId },
    },
    () => ctx.requests.cancel(requestId),
  );
}

/**
 * `local` plus the matching sockets of every live node: resolves once each answered, or
 * at the timeout with the answers received; rejects when the request cannot be published.
 */
export function fetchRemoteSockets(
  ctx: QueryContext,
  opts: BroadcastOptions,
  local: readonly SocketDetails[],
): Promise<SocketDetails[]> {
  if (ctx.nodes.size === 0) return Promise.resolve([...local]);
  return new Promise((resolve, reject) => {
    const found = [...local];
    const requestId = newRequestId();
    ctx.requests.add(requestId, ctx.nodes.keys(), ctx.timeout, {
      onResponse: (message) => {
        if (message.type !== ClusterMessageType.FETCH_SOCKETS_RESPONSE) return false;
        for (const socket of message.data.sockets) found.push(fromWireSocket(socket));
        return true;
      },
      onComplete: () => resolve(found),
      onTimeout: () => resolve(found),
    });
    ctx.publish(
      { type: ClusterMessageType.FETCH_SOCKETS, data: { opts: toWireOptions(opts), requestId } },
      (error) => {
        ctx.requests.cancel(requestId);
        reject(error);
      },
    );
  });
}

/**
 * Runs the other nodes' server-side listeners and collects one response per live node;
 * at the timeout, calls back with a TimeoutError and the responses received.
 */
export function emitWithAcks(
  ctx: QueryContext,
  args: unknown[],
  timeout: number,
  onAck: (err: Error | null, responses: unknown[]) => void,
): void {
  const responses: unknown[] = [];
  const requestId = newRequestId();
  const expected = ctx.nodes.size;
  ctx.requests.add(requestId, ctx.nodes.keys(), timeout, {
    onResponse: (message) => {
      if (message.type !== ClusterMessageType.SERVER_SIDE_EMIT_RESPONSE) return false;
      responses.push(message.data.packet);
      return true;
    },
    onComplete: () => onAck(null, responses),
    onTimeout: () => {
      const reason = `timeout reached: only ${responses.length} responses received out of ${expected}`;
      onAck(new TimeoutError(ErrorCode.ACK_TIMEOUT, reason), responses);
    },
  });
  ctx.publish(
    { type: ClusterMessageType.SERVER_SIDE_EMIT, data: { packet: args, requestId } },
    (error) => {
      ctx.requests.cancel(requestId);
      onAck(error, responses);
    },
  );
}

function newRequestId(): string {
  return randomBytes(8).toString("hex");
}
