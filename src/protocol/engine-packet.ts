/**
 * Engine.IO v4 packets and polling payloads (engine.io-protocol v4 §packet-encoding).
 *
 * A packet is one type character followed by its data. Over WebSocket a text packet is one
 * text frame and a binary `message` is one binary frame with no type prefix. Over HTTP
 * long-polling packets are joined with the record separator `\x1e` and binary data is sent
 * as base64 behind a `b`.
 */
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";
import { decodeBase64, encodeBase64 } from "./base64.js";

/** Engine.IO packet types and their wire characters (engine.io-protocol v4 §packet-types). */
export const EnginePacketType = {
  open: "0",
  close: "1",
  ping: "2",
  pong: "3",
  message: "4",
  upgrade: "5",
  noop: "6",
} as const;

/** The name of an Engine.IO packet type. */
export type EnginePacketKind = keyof typeof EnginePacketType;

/** Data carried by a transport frame or packet: text, or raw bytes. */
export type RawData = string | Uint8Array;

/** One Engine.IO packet. */
export interface EnginePacket {
  readonly type: EnginePacketKind;
  readonly data?: RawData | undefined;
}

/** The polling payload record separator (engine.io-protocol v4 §payload). */
export const RECORD_SEPARATOR = "\x1e";

const KIND_BY_CHAR: Record<string, EnginePacketKind> = {
  "0": "open",
  "1": "close",
  "2": "ping",
  "3": "pong",
  "4": "message",
  "5": "upgrade",
  "6": "noop",
};

/**
 * Encodes a packet for a WebSocket frame: a string for text packets, the raw bytes for a
 * binary `message` (engine.io-protocol v4 §websocket).
 */
export function encodePacket(packet: EnginePacket): RawData {
  const data = packet.data;
  if (typeof data === "string") return EnginePacketType[packet.type] + data;
  if (data === undefined) return EnginePacketType[packet.type];
  return data;
}

/** Encodes a packet as text for a polling payload: binary data becomes `b` + base64. */
export function encodePacketAsText(packet: EnginePacket): string {
  const data = packet.data;
  if (data === undefined) return EnginePacketType[packet.type];
  if (typeof data === "string") return EnginePacketType[packet.type] + data;
  return `b${encodeBase64(data)}`;
}

/**
 * Decodes one packet from a WebSocket frame or a payload record. Binary input is a binary
 * `message`; text starting with `b` is a base64 binary `message`.
 */
export function decodePacket(raw: RawData): Result<EnginePacket, ProtocolError> {
  if (typeof raw !== "string") return ok({ type: "message", data: raw });
  if (raw.length === 0) return fail(ErrorCode.INVALID_PACKET, "empty packet");
  const head = raw[0]!;
  if (head === "b") {
    const bytes = decodeBase64(raw, 1);
    return bytes.ok ? ok({ type: "message", data: bytes.value }) : bytes;
  }
  const type = KIND_BY_CHAR[head];
  if (type === undefined) return fail(ErrorCode.INVALID_PACKET, `unknown packet type "${head}"`);
  return ok(raw.length > 1 ? { type, data: raw.slice(1) } : { type });
}

/** Joins packets into one polling payload (engine.io-protocol v4 §payload). */
export function encodePayload(packets: readonly EnginePacket[]): string {
  let out = "";
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += RECORD_SEPARATOR;
    out += encodePacketAsText(packets[i]!);
  }
  return out;
}

/**
 * Splits a polling payload into packets. Stops with an error at the first malformed
 * packet or when the payload holds more than `maxPackets` packets.
 */
export function decodePayload(
  payload: string,
  maxPackets = Number.POSITIVE_INFINITY,
): Result<EnginePacket[], ProtocolError> {
  const packets: EnginePacket[] = [];
  let start = 0;
  while (start <= payload.length) {
    let end = payload.indexOf(RECORD_SEPARATOR, start);
    if (end === -1) end = payload.length;
    if (packets.length >= maxPackets) {
      return fail(ErrorCode.TOO_MANY_PACKETS, `payload holds more than ${maxPackets} packets`);
    }
    const packet = decodePacket(payload.slice(start, end));
    if (!packet.ok) return packet;
    packets.push(packet.value);
    start = end + 1;
  }
  return ok(packets);
}
