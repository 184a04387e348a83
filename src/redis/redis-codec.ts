/**
 * The wire format of `@socket.io/redis-adapter` (v8, non-sharded), mapped to and from
 * {@link ClusterMessage}s, so Socket.IO and Switchboard servers on one Redis see each other.
 *
 * Channels, with `key` defaulting to `"socket.io"`:
 * ```
 *   <key>#<nsp>#            broadcasts to the whole namespace   MessagePack [uid, packet, opts]
 *   <key>#<nsp>#<room>#     broadcasts to exactly one room       (same)
 *   <key>-request#<nsp>#    requests, JSON or MessagePack        { uid, type, requestId?, ... }
 *   <key>-response#<nsp>#   responses, JSON or MessagePack       { requestId, ... }
 *   <key>-response#<nsp>#<uid>#   responses for one node (publishOnSpecificResponseChannel)
 * ```
 * Request types are Socket.IO's numbers (0 SOCKETS ... 9 BROADCAST_ACK). Liveness messages
 * have no Socket.IO equivalent: they travel on the request channel as types 101, 102 and 113
 * (100 + the cluster type), which Socket.IO nodes ignore. Switchboard writes everything as
 * MessagePack (Socket.IO reads both, telling JSON by its leading `{`) and adds its `uid` to
 * responses, which Socket.IO ignores and Switchboard uses to know who answered.
 */
import {
  type ClusterMessage,
  ClusterMessageType,
  type ClusterResponse,
  encodeClusterMessage,
  isNodeMessageType,
  isRecord,
  parseClusterMessage,
  parseWireOptions,
  parseWirePacket,
  parseWireSockets,
  type TargetedMessage,
} from "../adapter/cluster-message.js";
import { decodeMsgpack, encodeMsgpack } from "../adapter/msgpack.js";
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";
import { decodeJson } from "../protocol/json.js";

/** `@socket.io/redis-adapter`'s request type numbers. */
export const RedisRequestType = {
  SOCKETS: 0,
  ALL_ROOMS: 1,
  REMOTE_JOIN: 2,
  REMOTE_LEAVE: 3,
  REMOTE_DISCONNECT: 4,
  REMOTE_FETCH: 5,
  SERVER_SIDE_EMIT: 6,
  BROADCAST: 7,
  BROADCAST_CLIENT_COUNT: 8,
  BROADCAST_ACK: 9,
} as const;

/** Liveness types on the request channel: 100 + the cluster message type. */
const LIVENESS_OFFSET = 100;
const MAX_DEPTH = 100;
const CHAR_OPEN_BRACE = 0x7b;
const utf8 = new TextDecoder();

/** The channel names of one namespace. */
export interface RedisChannels {
  /** `<key>#<nsp>#`: broadcasts; a room's channel appends `<room>#`. */
  readonly broadcast: string;
  readonly request: string;
  readonly response: string;
  /** The response channel of one node. */
  specificResponse(uid: string): string;
}

/** The channels of namespace `nsp` under prefix `key`. */
export function redisChannels(key: string, nsp: string): RedisChannels {
  const response = `${key}-response#${nsp}#`;
  return {
    broadcast: `${key}#${nsp}#`,
    request: `${key}-request#${nsp}#`,
    response,
    specificResponse: (uid) => `${response}${uid}#`,
  };
}

/** A request only Socket.IO nodes send: answered by the adapter itself, not the base class. */
export type LegacyRequest =
  | {
      readonly kind: "sockets";
      readonly uid: string;
      readonly requestId: string;
      readonly rooms: string[];
    }
  | { readonly kind: "allRooms"; readonly uid: string; readonly requestId: string };

/** Where and what to publish for a message that is not a response. */
export function encodeRedisMessage(
  message: ClusterMessage,
  channels: RedisChannels,
): { channel: string; payload: Uint8Array } {
  const { uid } = message;
  switch (message.type) {
    case ClusterMessageType.BROADCAST: {
      const { packet, opts, requestId } = message.data;
      if (requestId !== undefined) {
        const request = { uid, requestId, type: RedisRequestType.BROADCAST, packet, opts };
        return { channel: channels.request, payload: encodeMsgpack(request) };
      }
      const only = opts.rooms.length === 1 ? `${opts.rooms[0]}#` : "";
      return { channel: channels.broadcast + only, payload: encodeMsgpack([uid, packet, opts]) };
    }
    case ClusterMessageType.SOCKETS_JOIN:
    case ClusterMessageType.SOCKETS_LEAVE: {
      const type =
        message.type === ClusterMessageType.SOCKETS_JOIN
          ? RedisRequestType.REMOTE_JOIN
          : RedisRequestType.REMOTE_LEAVE;
      return request(channels, { uid, type, opts: message.data.opts, rooms: message.data.rooms });
    }
    case ClusterMessageType.DISCONNECT_SOCKETS: {
      const { opts, close } = message.data;
      return request(channels, { uid, type: RedisRequestType.REMOTE_DISCONNECT, opts, close });
    }
    case ClusterMessageType.FETCH_SOCKETS: {
      const { opts, requestId } = message.data;
      return request(channels, { uid, requestId, type: RedisRequestType.REMOTE_FETCH, opts });
    }
    case ClusterMessageType.SERVER_SIDE_EMIT: {
      const { packet, requestId } = message.data;
      const body = { uid, type: RedisRequestType.SERVER_SIDE_EMIT, data: packet };
      return request(channels, requestId === undefined ? body : { ...body, requestId });
    }
    default:
      if (isResponseType(message.type)) throw new Error("cannot publish a response as a request");
      return request(channels, { uid, type: LIVENESS_OFFSET + message.type });
  }
}

function request(channels: RedisChannels, body: object): { channel: string; payload: Uint8Array } {
  return { channel: channels.request, payload: encodeMsgpack(body) };
}

/** The payload of a response, in Socket.IO's shape plus the responder's `uid`. */
export function encodeRedisResponse(message: TargetedMessage): Uint8Array {
  const { uid, data } = message;
  switch (message.type) {
    case ClusterMessageType.NODE_REQUEST:
    case ClusterMessageType.NODE_RESPONSE:
    case ClusterMessageType.NODE_ABORT:
      // Switchboard's own, to one Switchboard node: the whole message as it is.
      return encodeClusterMessage(message);
    case ClusterMessageType.FETCH_SOCKETS_RESPONSE:
      return encodeMsgpack({ requestId: data.requestId, sockets: message.data.sockets, uid });
    case ClusterMessageType.SERVER_SIDE_EMIT_RESPONSE:
      return encodeMsgpack({
        type: RedisRequestType.SERVER_SIDE_EMIT,
        requestId: data.requestId,
        data: message.data.packet,
        uid,
      });
    case ClusterMessageType.BROADCAST_CLIENT_COUNT:
      return encodeMsgpack({
        type: RedisRequestType.BROADCAST_CLIENT_COUNT,
        requestId: data.requestId,
        clientCount: message.data.clientCount,
        uid,
      });
    case ClusterMessageType.BROADCAST_ACK:
      return encodeMsgpack({
        type: RedisRequestType.BROADCAST_ACK,
        requestId: data.requestId,
        packet: message.data.packet,
        uid,
      });
  }
}

/** The payload answering a legacy request. */
export function encodeLegacyResponse(
  requestId: string,
  body: { sockets: string[] } | { rooms: string[] },
): Uint8Array {
  return encodeMsgpack({ requestId, ...body });
}

/** Decodes `[uid, packet, opts]` from a broadcast channel. */
export function decodeRedisBroadcast(
  bytes: Uint8Array,
  nsp: string,
): Result<ClusterMessage, ProtocolError> {
  const decoded = decodeMsgpack(bytes, { maxDepth: MAX_DEPTH });
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (!Array.isArray(value) || typeof value[0] !== "string")
    return invalid("broadcast is not [uid, packet, opts]");
  const packet = parseWirePacket(value[1]);
  const opts = parseWireOptions(value[2]);
  if (packet === undefined || opts === undefined)
    return invalid("malformed broadcast packet or options");
  return ok({ uid: value[0], nsp, type: ClusterMessageType.BROADCAST, data: { packet, opts } });
}

/** Decodes a message from the request channel. */
export function decodeRedisRequest(
  bytes: Uint8Array,
  nsp: string,
): Result<ClusterMessage | LegacyRequest, ProtocolError> {
  const decoded = decodePayload(bytes);
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (!isRecord(value) || typeof value.uid !== "string" || typeof value.type !== "number") {
    return invalid("request without uid or type");
  }
  const { uid, type } = value;
  const requestId = typeof value.requestId === "string" ? value.requestId : undefined;
  if (type === RedisRequestType.SOCKETS || type === RedisRequestType.ALL_ROOMS) {
    if (requestId === undefined) return invalid("legacy request without requestId");
    if (type === RedisRequestType.ALL_ROOMS) return ok({ kind: "allRooms", uid, requestId });
    const rooms = Array.isArray(value.rooms)
      ? value.rooms.filter((r) => typeof r === "string")
      : [];
    return ok({ kind: "sockets", uid, requestId, rooms });
  }
  const mapped = toClusterRequest(type, value, requestId);
  if (mapped === undefined) return invalid(`unsupported request type ${type}`);
  return parseClusterMessage({ uid, nsp, ...mapped });
}

function toClusterRequest(
  type: number,
  value: Record<string, unknown>,
  requestId: string | undefined,
): { type: number; data?: unknown } | undefined {
  const opts = value.opts;
  switch (type) {
    case RedisRequestType.REMOTE_JOIN:
      return { type: ClusterMessageType.SOCKETS_JOIN, data: { opts, rooms: value.rooms } };
    case RedisRequestType.REMOTE_LEAVE:
      return { type: ClusterMessageType.SOCKETS_LEAVE, data: { opts, rooms: value.rooms } };
    case RedisRequestType.REMOTE_DISCONNECT:
      return { type: ClusterMessageType.DISCONNECT_SOCKETS, data: { opts, close: value.close } };
    case RedisRequestType.REMOTE_FETCH:
      return { type: ClusterMessageType.FETCH_SOCKETS, data: { opts, requestId } };
    case RedisRequestType.SERVER_SIDE_EMIT:
      return { type: ClusterMessageType.SERVER_SIDE_EMIT, data: { packet: value.data, requestId } };
    case RedisRequestType.BROADCAST:
      return {
        type: ClusterMessageType.BROADCAST,
        data: { packet: value.packet, opts, requestId },
      };
    case LIVENESS_OFFSET + ClusterMessageType.INITIAL_HEARTBEAT:
    case LIVENESS_OFFSET + ClusterMessageType.HEARTBEAT:
    case LIVENESS_OFFSET + ClusterMessageType.ADAPTER_CLOSE:
      return { type: type - LIVENESS_OFFSET };
    default:
      return undefined;
  }
}

/**
 * Decodes a message from a response channel. Socket.IO's responses name no sender: their
 * `uid` is `""`, so they add data to a request without counting as an expected node's answer.
 */
export function decodeRedisResponse(
  bytes: Uint8Array,
  nsp: string,
): Result<TargetedMessage, ProtocolError> {
  const decoded = decodePayload(bytes);
  if (!decoded.ok) return decoded;
  const value = decoded.value;
  if (isRecord(value) && isNodeMessageType(value.type)) {
    return parseClusterMessage(value) as Result<TargetedMessage, ProtocolError>;
  }
  if (!isRecord(value) || typeof value.requestId !== "string")
    return invalid("response without requestId");
  const uid = typeof value.uid === "string" ? value.uid : "";
  const { requestId } = value;
  let mapped: { type: number; data: unknown };
  switch (value.type) {
    case RedisRequestType.SERVER_SIDE_EMIT:
      mapped = {
        type: ClusterMessageType.SERVER_SIDE_EMIT_RESPONSE,
        data: { requestId, packet: value.data },
      };
      break;
    case RedisRequestType.BROADCAST_CLIENT_COUNT:
      mapped = {
        type: ClusterMessageType.BROADCAST_CLIENT_COUNT,
        data: { requestId, clientCount: value.clientCount },
      };
      break;
    case RedisRequestType.BROADCAST_ACK:
      mapped = {
        type: ClusterMessageType.BROADCAST_ACK,
        data: { requestId, packet: value.packet },
      };
      break;
    default:
      if (parseWireSockets(value.sockets) === undefined) return invalid("unsupported response");
      mapped = {
        type: ClusterMessageType.FETCH_SOCKETS_RESPONSE,
        data: { requestId, sockets: value.sockets },
      };
  }
  return parseClusterMessage({ uid, nsp, ...mapped }) as Result<ClusterResponse, ProtocolError>;
}

/** JSON when the payload starts with `{` (as Socket.IO decides), MessagePack otherwise. */
function decodePayload(bytes: Uint8Array): Result<unknown, ProtocolError> {
  if (bytes[0] === CHAR_OPEN_BRACE) return decodeJson(utf8.decode(bytes), 0, MAX_DEPTH);
  return decodeMsgpack(bytes, { maxDepth: MAX_DEPTH });
}

function isResponseType(type: number): boolean {
  return type === 8 || type === 10 || type === 11 || type === 12;
}

function invalid(message: string): { ok: false; error: ProtocolError } {
  return fail(ErrorCode.INVALID_PAYLOAD, message);
}
