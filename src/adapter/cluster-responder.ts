/**
 * The answering side of a cluster adapter: what this node does when another node's request
 * arrives. Each request runs the matching in-memory operation on this node's sockets; those
 * that expect an answer (FETCH_SOCKETS, SERVER_SIDE_EMIT with a request id, BROADCAST with
 * acks) send their responses to the requesting node.
 */
import type { SocketPacket } from "../protocol/socket-packet.js";
import type { BroadcastOptions, NamespacePort, Room, SocketDetails } from "./adapter.js";
import {
  ClusterMessageType,
  type ClusterRequest,
  type ClusterResponse,
  fromWireOptions,
  fromWirePacket,
  toWireSocket,
  type Unsent,
} from "./cluster-message.js";

/** This node's own operations, on its own sockets only. */
export interface LocalOperations {
  broadcast(packet: SocketPacket, opts: BroadcastOptions): void;
  broadcastWithAck(
    packet: SocketPacket,
    opts: BroadcastOptions,
    onExpected: (count: number) => void,
    onAck: (args: unknown[]) => void,
  ): void;
  fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]>;
  addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void;
  delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void;
  disconnectSockets(opts: BroadcastOptions, close: boolean): void;
}

/** Sends a response to the node that made a request. */
export type Respond = (requesterUid: string, response: Unsent<ClusterResponse>) => void;

/** Runs another node's request on this node, answering it when it expects an answer. */
export function answerRequest(
  message: ClusterRequest,
  local: LocalOperations,
  port: NamespacePort,
  respond: Respond,
): void {
  switch (message.type) {
    case ClusterMessageType.BROADCAST:
      answerBroadcast(message, local, port.name, respond);
      return;
    case ClusterMessageType.SOCKETS_JOIN:
      local.addSockets(fromWireOptions(message.data.opts), message.data.rooms);
      return;
    case ClusterMessageType.SOCKETS_LEAVE:
      local.delSockets(fromWireOptions(message.data.opts), message.data.rooms);
      return;
    case ClusterMessageType.DISCONNECT_SOCKETS:
      local.disconnectSockets(fromWireOptions(message.data.opts), message.data.close);
      return;
    case ClusterMessageType.FETCH_SOCKETS: {
      const { requestId } = message.data;
      local.fetchSockets(fromWireOptions(message.data.opts)).then((sockets) =>
        respond(message.uid, {
          type: ClusterMessageType.FETCH_SOCKETS_RESPONSE,
          data: { requestId, sockets: sockets.map(toWireSocket) },
        }),
      );
      return;
    }
    case ClusterMessageType.SERVER_SIDE_EMIT:
      answerServerSideEmit(message.uid, message.data.packet, message.data.requestId, port, respond);
      return;
  }
}

function answerBroadcast(
  message: Extract<ClusterRequest, { type: typeof ClusterMessageType.BROADCAST }>,
  local: LocalOperations,
  nsp: string,
  respond: Respond,
): void {
  const { requestId } = message.data;
  const packet = fromWirePacket(message.data.packet, nsp);
  const opts = fromWireOptions(message.data.opts);
  if (requestId === undefined) {
    local.broadcast(packet, opts);
    return;
  }
  local.broadcastWithAck(
    packet,
    opts,
    (clientCount) =>
      respond(message.uid, {
        type: ClusterMessageType.BROADCAST_CLIENT_COUNT,
        data: { requestId, clientCount },
      }),
    (args) =>
      respond(message.uid, {
        type: ClusterMessageType.BROADCAST_ACK,
        data: { requestId, packet: args[0] },
      }),
  );
}

function answerServerSideEmit(
  requester: string,
  args: unknown[],
  requestId: string | undefined,
  port: NamespacePort,
  respond: Respond,
): void {
  if (requestId === undefined) {
    port.receiveServerSideEmit(args);
    return;
  }
  let isAnswered = false;
  port.receiveServerSideEmit(args, (response) => {
    if (isAnswered) return; // Socket.IO semantics: one response per node
    isAnswered = true;
    respond(requester, {
      type: ClusterMessageType.SERVER_SIDE_EMIT_RESPONSE,
      data: { requestId, packet: response },
    });
  });
}
