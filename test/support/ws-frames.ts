/**
 * RFC 6455 by hand for the tests, from either side: the accept key, frames built (a client's,
 * masked, or a server's, unmasked) and parsed byte by byte, close payloads. Written from the
 * RFC on purpose: nothing here comes from the code under test (src/protocol/websocket-frame.ts).
 */
import { createHash, randomBytes } from "node:crypto";

/** Opcodes as RFC 6455 §5.2 numbers them. */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The RSV bits (RFC 6455 §5.2) as the 3-bit value of a frame's `rsv`: RSV1 is the high one. */
export const RSV1 = 4;
export const RSV2 = 2;
export const RSV3 = 1;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash("sha1")
    .update(key + GUID)
    .digest("base64");
}

/** One frame to build: final, without RSV bits and unmasked unless told otherwise. */
export interface FrameSpec {
  readonly opcode: number;
  readonly payload?: string | Uint8Array;
  readonly fin?: boolean;
  /** The RSV bits, 0-7 ({@link RSV1}, {@link RSV2}, {@link RSV3}). */
  readonly rsv?: number;
  /** The masking key, or true for a random one (a client's frame). */
  readonly mask?: Uint8Array | boolean;
}

/** Builds a frame (RFC 6455 §5.2) with a 7-, 16- or 64-bit length. */
export function buildFrame({ opcode, payload = "", fin = true, rsv = 0, mask }: FrameSpec): Buffer {
  const data = Buffer.from(payload);
  const n = data.length;
  const key = mask === true ? randomBytes(4) : mask === false ? undefined : mask;
  const size = n < 126 ? 2 : n < 65_536 ? 4 : 10;
  const head = Buffer.alloc(size + (key === undefined ? 0 : 4));
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  const maskBit = key === undefined ? 0 : 0x80;
  if (n < 126) head[1] = maskBit | n;
  else if (n < 65_536) {
    head[1] = maskBit | 126;
    head.writeUInt16BE(n, 2);
  } else {
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(BigInt(n), 2);
  }
  if (key !== undefined) {
    head.set(key, size);
    for (let i = 0; i < n; i++) data[i] = data[i]! ^ key[i & 3]!;
  }
  return Buffer.concat([head, data]);
}

/** A frame as parsed from the wire. */
export interface ParsedFrame {
  fin: boolean;
  /** The RSV bits, 0-7. */
  rsv: number;
  opcode: number;
  isMasked: boolean;
  /** The masking key (empty when unmasked). */
  key: Buffer;
  /** The 7-bit length field: the length itself, 126 (16-bit follows) or 127 (64-bit). */
  lengthCode: number;
  /** The payload as sent (masked or not). */
  raw: Buffer;
  /** The payload unmasked. */
  payload: Buffer;
}

/** Parses one frame at the start of `buf`, or null while it is incomplete. */
export function parseFrame(buf: Buffer): { frame: ParsedFrame; used: number } | null {
  if (buf.length < 2) return null;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  const lengthCode = b1 & 0x7f;
  let length = lengthCode;
  let at = 2;
  if (lengthCode === 126) {
    if (buf.length < 4) return null;
    length = buf.readUInt16BE(2);
    at = 4;
  } else if (lengthCode === 127) {
    if (buf.length < 10) return null;
    length = Number(buf.readBigUInt64BE(2));
    at = 10;
  }
  const isMasked = (b1 & 0x80) !== 0;
  if (isMasked && buf.length < at + 4) return null;
  const key = isMasked ? Buffer.from(buf.subarray(at, at + 4)) : Buffer.alloc(0);
  if (isMasked) at += 4;
  if (buf.length < at + length) return null;
  const raw = Buffer.from(buf.subarray(at, at + length));
  const payload = Buffer.from(raw);
  if (isMasked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
  const frame = { fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, opcode: b0 & 0x0f, isMasked, key };
  return { frame: { ...frame, lengthCode, raw, payload }, used: at + length };
}

/** A close frame's payload (RFC 6455 §5.5.1): the status code, then the reason. */
export function closeBody(code: number, reason: string | Uint8Array = ""): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code);
  return Buffer.concat([head, Buffer.from(reason)]);
}
