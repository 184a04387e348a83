/**
 * The messages nodes of a cluster exchange through a broker (Redis, NATS...): one union,
 * numbered and shaped as socket.io-adapter's `ClusterAdapter` messages
 * (`{ uid, nsp, type, data }`), so that a transport speaking that format stays compatible.
 *
 * Requests (BROADCAST, SOCKETS_JOIN, SOCKETS_LEAVE, DISCONNECT_SOCKETS, FETCH_SOCKETS,
 * SERVER_SIDE_EMIT) go to every node; responses (FETCH_SOCKETS_RESPONSE,
 * SERVER_SIDE_EMIT_RESPONSE, BROADCAST_CLIENT_COUNT, BROADCAST_ACK) go back to the requester
 * and carry its `requestId`; INITIAL_HEARTBEAT, HEARTBEAT and ADAPTER_CLOSE tell which nodes
 * are alive. NODE_REQUEST, NODE_RESPONSE and NODE_ABORT are Switchboard's own: a request to
 * one node and its answer, always published on that node's own channel. Messages arrive from the network, so {@link parseClusterMessage} checks every
 * field and returns a {@link Result}.
 */
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import { SocketPacketType } from "../protocol/socket-packet.js";
import type { BroadcastFlags, BroadcastOptions, Room, SocketDetails } from "./adapter.js";
import { decodeMsgpack, encodeMsgpack, type MsgpackDecodeLimits } from "./msgpack.js";

/** Message types and their wire numbers (as in socket.io-adapter's cluster adapter). */
export const ClusterMessageType = {
  INITIAL_HEARTBEAT: 1,
  HEARTBEAT: 2,
  BROADCAST: 3,
  SOCKETS_JOIN: 4,
  SOCKETS_LEAVE: 5,
  DISCONNECT_SOCKETS: 6,
  FETCH_SOCKETS: 7,
  FETCH_SOCKETS_RESPONSE: 8,
  SERVER_SIDE_EMIT: 9,
  SERVER_SIDE_EMIT_RESPONSE: 10,
  BROADCAST_CLIENT_COUNT: 11,
  BROADCAST_ACK: 12,
  ADAPTER_CLOSE: 13,
  // Switchboard's own, between Switchboard nodes only (never on a channel Socket.IO nodes read):
  /** A request to one node (e.g. a polling request for a session it holds). */
  NODE_REQUEST: 100,
  /** The answer to a NODE_REQUEST. */
  NODE_RESPONSE: 101,
  /** The requester of a NODE_REQUEST gave up (its client went away, or it timed out). */
  NODE_ABORT: 102,
} as const;

/** A cluster message type number. */
export type ClusterMessageTypeValue = (typeof ClusterMessageType)[keyof typeof ClusterMessageType];

type T = typeof ClusterMessageType;

/** Broadcast options on the wire: room sets as arrays. */
export interface WireOptions {
  readonly rooms: readonly Room[];
  readonly except: readonly Room[];
  readonly flags?: BroadcastFlags;
}

/** An EVENT packet on the wire, binaries inline (MessagePack carries them as bytes). */
export interface WirePacket {
  readonly type: number;
  readonly nsp: string;
  readonly data: readonly unknown[];
}

/** A socket's details on the wire, for FETCH_SOCKETS_RESPONSE. */
export interface WireSocket {
  readonly id: string;
  readonly handshake: unknown;
  readonly rooms: readonly Room[];
  readonly data: unknown;
}

interface Envelope<Type extends ClusterMessageTypeValue, Data> {
  /** The sending node; `""` when the sender does not say (a legacy Socket.IO response). */
  readonly uid: string;
  readonly nsp: string;
  readonly type: Type;
  readonly data: Data;
}

/** A message that tells which nodes are alive. */
export type LivenessMessage = Envelope<
  T["INITIAL_HEARTBEAT"] | T["HEARTBEAT"] | T["ADAPTER_CLOSE"],
  undefined
>;

/** A message every node acts on. */
export type ClusterRequest =
  | Envelope<T["BROADCAST"], { packet: WirePacket; opts: WireOptions; requestId?: string }>
  | Envelope<T["SOCKETS_JOIN"] | T["SOCKETS_LEAVE"], { opts: WireOptions; rooms: Room[] }>
  | Envelope<T["DISCONNECT_SOCKETS"], { opts: WireOptions; close: boolean }>
  | Envelope<T["FETCH_SOCKETS"], { opts: WireOptions; requestId: string }>
  | Envelope<T["SERVER_SIDE_EMIT"], { packet: unknown[]; requestId?: string }>;

/** A message answering one request; only its requester acts on it. */
export type ClusterResponse =
  | Envelope<T["FETCH_SOCKETS_RESPONSE"], { requestId: string; sockets: WireSocket[] }>
  | Envelope<T["SERVER_SIDE_EMIT_RESPONSE"], { requestId: string; packet: unknown }>
  | Envelope<T["BROADCAST_CLIENT_COUNT"], { requestId: string; clientCount: number }>
  | Envelope<T["BROADCAST_ACK"], { requestId: string; packet: unknown }>
  | Envelope<T["NODE_RESPONSE"], { requestId: string; body?: unknown; error?: string }>;

/** A request to one node, or its requester giving up on it. */
export type NodeMessage =
  | Envelope<T["NODE_REQUEST"], { requestId: string; body: unknown }>
  | Envelope<T["NODE_ABORT"], { requestId: string }>;

/** A message published to one node's own channel: a response, or a {@link NodeMessage}. */
export type TargetedMessage = ClusterResponse | NodeMessage;

/** Any message between nodes. */
export type ClusterMessage = LivenessMessage | ClusterRequest | ClusterResponse | NodeMessage;

/** A message before the adapter stamps its `uid` and `nsp` on it (one per union member). */
export type Unsent<M extends ClusterMessage> = M extends unknown ? Omit<M, "uid" | "nsp"> : never;

const RESPONSE_TYPES: ReadonlySet<number> = new Set([
  ClusterMessageType.FETCH_SOCKETS_RESPONSE,
  ClusterMessageType.SERVER_SIDE_EMIT_RESPONSE,
  ClusterMessageType.BROADCAST_CLIENT_COUNT,
  ClusterMessageType.BROADCAST_ACK,
  ClusterMessageType.NODE_RESPONSE,
]);

/** True for the response types. */
export function isClusterResponse(message: ClusterMessage): message is ClusterResponse {
  return RESPONSE_TYPES.has(message.type);
}

/** True for NODE_REQUEST, NODE_RESPONSE and NODE_ABORT (by type number, before parsing). */
export function isNodeMessageType(type: unknown): boolean {
  return (
    type === ClusterMessageType.NODE_REQUEST ||
    type === ClusterMessageType.NODE_RESPONSE ||
    type === ClusterMessageType.NODE_ABORT
  );
}

/** Broadcast options as they travel: sets become arrays, and `local` is dropped. */
export function toWireOptions(opts: BroadcastOptions): WireOptions {
  const { local: _local, ...flags } = opts.flags;
  return { rooms: [...opts.rooms], except: [...opts.except], flags };
}

/** Broadcast options back from the wire. */
export function fromWireOptions(opts: WireOptions): BroadcastOptions {
  return { rooms: new Set(opts.rooms), except: new Set(opts.except), flags: opts.flags ?? {} };
}

/** A packet as it travels: its type, namespace and data (its ack id stays on this node). */
export function toWirePacket(packet: SocketPacket): WirePacket {
  return { type: packet.type, nsp: packet.nsp, data: packet.data as unknown[] };
}

/** A packet back from the wire, as an EVENT of this namespace. */
export function fromWirePacket(packet: WirePacket, nsp: string): SocketPacket {
  return { type: SocketPacketType.EVENT, nsp, data: [...packet.data] };
}

/** A socket's details as they travel. */
export function toWireSocket(socket: SocketDetails): WireSocket {
  return {
    id: socket.id,
    handshake: socket.handshake,
    rooms: [...socket.rooms],
    data: socket.data,
  };
}

/** A socket's details back from the wire. */
export function fromWireSocket(socket: WireSocket): SocketDetails {
  return {
    id: socket.id,
    handshake: socket.handshake,
    rooms: new Set(socket.rooms),
    data: socket.data,
  };
}

/** Encodes a message as MessagePack. */
export function encodeClusterMessage(message: ClusterMessage): Uint8Array {
  return encodeMsgpack(message);
}

/** Decodes and checks a MessagePack message. */
export function decodeClusterMessage(
  bytes: Uint8Array,
  limits?: MsgpackDecodeLimits,
): Result<ClusterMessage, ProtocolError> {
  const decoded = decodeMsgpack(bytes, limits);
  return decoded.ok ? parseClusterMessage(decoded.value) : decoded;
}

/** Checks that a decoded value is a well-formed {@link ClusterMessage}. */
export function parseClusterMessage(value: unknown): Result<ClusterMessage, ProtocolError> {
  if (!isRecord(value)) return invalid("a cluster message must be a map");
  const { uid, nsp, type, data } = value;
  if (typeof uid !== "string" || typeof nsp !== "string") {
    return invalid("a cluster message needs a string uid and nsp");
  }
  if (typeof type !== "number") return invalid("a cluster message needs a numeric type");
  const checked = parseData(type, data);
  if (checked === undefined) return invalid(`malformed data for cluster message type ${type}`);
  return ok({ uid, nsp, type, data: checked.data } as ClusterMessage);
}

/** The checked `data` of a message of this type, or undefined when it is malformed. */
function parseData(type: number, data: unknown): { data: unknown } | undefined {
  switch (type) {
    case ClusterMessageType.INITIAL_HEARTBEAT:
    case ClusterMessageType.HEARTBEAT:
    case ClusterMessageType.ADAPTER_CLOSE:
      return { data: undefined };
    case ClusterMessageType.FETCH_SOCKETS_RESPONSE:
      return wrap(parseFetchResponse(data));
    case ClusterMessageType.SERVER_SIDE_EMIT_RESPONSE:
    case ClusterMessageType.BROADCAST_ACK:
      return isRecord(data) && typeof data.requestId === "string"
        ? { data: { requestId: data.requestId, packet: data.packet } }
        : undefined;
    case ClusterMessageType.BROADCAST_CLIENT_COUNT:
      return isRecord(data) && typeof data.requestId === "string" && isCount(data.clientCount)
        ? { data: { requestId: data.requestId, clientCount: data.clientCount } }
        : undefined;
    case ClusterMessageType.NODE_REQUEST:
      return isRecord(data) && typeof data.requestId === "string"
        ? { data: { requestId: data.requestId, body: data.body } }
        : undefined;
    case ClusterMessageType.NODE_RESPONSE:
      if (!isRecord(data) || typeof data.requestId !== "string") return undefined;
      return typeof data.error === "string"
        ? { data: { requestId: data.requestId, error: data.error } }
        : { data: { requestId: data.requestId, body: data.body } };
    case ClusterMessageType.NODE_ABORT:
      return isRecord(data) && typeof data.requestId === "string"
        ? { data: { requestId: data.requestId } }
        : undefined;
    default:
      return wrap(parseRequestData(type, data));
  }
}

function parseRequestData(type: number, data: unknown): unknown {
  if (!isRecord(data)) return undefined;
  const requestId = optionalString(data.requestId);
  if (requestId === null) return undefined;
  if (type === ClusterMessageType.SERVER_SIDE_EMIT) {
    if (!Array.isArray(data.packet)) return undefined;
    return withRequestId({ packet: data.packet }, requestId);
  }
  const opts = parseWireOptions(data.opts);
  if (opts === undefined) return undefined;
  switch (type) {
    case ClusterMessageType.BROADCAST: {
      const packet = parseWirePacket(data.packet);
      return packet === undefined ? undefined : withRequestId({ packet, opts }, requestId);
    }
    case ClusterMessageType.SOCKETS_JOIN:
    case ClusterMessageType.SOCKETS_LEAVE:
      return isRoomList(data.rooms) ? { opts, rooms: data.rooms } : undefined;
    case ClusterMessageType.DISCONNECT_SOCKETS:
      return { opts, close: data.close === true };
    case ClusterMessageType.FETCH_SOCKETS:
      return requestId === undefined ? undefined : { opts, requestId };
    default:
      return undefined;
  }
}

function parseFetchResponse(data: unknown): unknown {
  if (!isRecord(data) || typeof data.requestId !== "string") return undefined;
  const sockets = parseWireSockets(data.sockets);
  return sockets === undefined ? undefined : { requestId: data.requestId, sockets };
}

/** Checks broadcast options from the wire (`flags` is optional, as old senders omit it). */
export function parseWireOptions(value: unknown): WireOptions | undefined {
  if (!isRecord(value) || !isRoomList(value.rooms) || !isRoomList(value.except)) return undefined;
  const flags = value.flags;
  if (flags === undefined || flags === null) return { rooms: value.rooms, except: value.except };
  if (!isRecord(flags)) return undefined;
  const checked: { -readonly [K in keyof BroadcastFlags]: BroadcastFlags[K] } = {};
  if (flags.volatile === true) checked.volatile = true;
  if (typeof flags.compress === "boolean") checked.compress = flags.compress;
  if (isCount(flags.timeout)) checked.timeout = flags.timeout;
  return { rooms: value.rooms, except: value.except, flags: checked };
}

/** Checks an EVENT packet from the wire (BINARY_EVENT is accepted: binaries are inline). */
export function parseWirePacket(value: unknown): WirePacket | undefined {
  if (!isRecord(value) || !Array.isArray(value.data)) return undefined;
  const type = value.type;
  if (type !== SocketPacketType.EVENT && type !== SocketPacketType.BINARY_EVENT) return undefined;
  const nsp = value.nsp === undefined ? "/" : value.nsp;
  return typeof nsp === "string" ? { type, nsp, data: value.data } : undefined;
}

/** Checks a list of socket details from the wire. */
export function parseWireSockets(value: unknown): WireSocket[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const sockets: WireSocket[] = [];
  for (const item of value) {
    if (!isRecord(item) || typeof item.id !== "string" || !isRoomList(item.rooms)) return undefined;
    sockets.push({ id: item.id, handshake: item.handshake, rooms: item.rooms, data: item.data });
  }
  return sockets;
}

/** True for a plain object decoded from the wire. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isRoomList(value: unknown): value is Room[] {
  return Array.isArray(value) && value.every((room) => typeof room === "string");
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** undefined when absent, the string when present, null when present but not a string. */
function optionalString(value: unknown): string | undefined | null {
  if (value === undefined || value === null) return undefined;
  return typeof value === "string" ? value : null;
}

function withRequestId<D extends object>(data: D, requestId: string | undefined): D {
  return requestId === undefined ? data : { ...data, requestId };
}

function wrap(data: unknown): { data: unknown } | undefined {
  return data === undefined ? undefined : { data };
}

function invalid(message: string): { ok: false; error: ProtocolError } {
  return fail(ErrorCode.INVALID_PAYLOAD, message);
}
