/**
 * The MessagePack decoder (see `msgpack.ts` for the format choices). It never throws on
 * input: truncation, unknown prefixes, impossible lengths, nesting past the limit and
 * trailing bytes all come back as a failed {@link Result}.
 */
import { Buffer } from "node:buffer";
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";

/** Limits applied while decoding untrusted MessagePack. */
export interface MsgpackDecodeLimits {
  /** Deepest nesting of arrays/maps. Default 100. */
  readonly maxDepth?: number;
}

const TWO_32 = 0x1_0000_0000;
const utf8Decoder = new TextDecoder();

/** Thrown inside the decoder only; {@link decodeMsgpack} turns it into a failed Result. */
class DecodeFailure {
  constructor(
    readonly code: typeof ErrorCode.INVALID_PAYLOAD | typeof ErrorCode.NESTING_TOO_DEEP,
    readonly message: string,
  ) {}
}

/** Reads MessagePack values from a byte array, checking every length against what is left. */
class Reader {
  offset = 0;
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly maxDepth: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  take(n: number): number {
    const at = this.offset;
    if (at + n > this.bytes.length) {
      throw new DecodeFailure(ErrorCode.INVALID_PAYLOAD, `msgpack truncated at byte ${at}`);
    }
    this.offset = at + n;
    return at;
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }
  u16(): number {
    return this.view.getUint16(this.take(2));
  }
  u32(): number {
    return this.view.getUint32(this.take(4));
  }

  /** A count of items that each need at least `minBytes` bytes: refuses impossible counts. */
  count(n: number, minBytes: number): number {
    if (n * minBytes > this.bytes.length - this.offset) {
      throw new DecodeFailure(ErrorCode.INVALID_PAYLOAD, `msgpack length ${n} exceeds the input`);
    }
    return n;
  }
}

/**
 * Decodes one MessagePack value that fills `bytes` exactly.
 * Fails with `INVALID_PAYLOAD` for truncated or unknown input and trailing bytes, and
 * `NESTING_TOO_DEEP` past `maxDepth`.
 */
export function decodeMsgpack(
  bytes: Uint8Array,
  limits: MsgpackDecodeLimits = {},
): Result<unknown, ProtocolError> {
  const reader = new Reader(bytes, limits.maxDepth ?? 100);
  try {
    const value = decodeValue(reader, 0);
    if (reader.offset !== bytes.length) {
      const extra = bytes.length - reader.offset;
      return fail(ErrorCode.INVALID_PAYLOAD, `msgpack has ${extra} trailing bytes`);
    }
    return ok(value);
  } catch (error) {
    if (error instanceof DecodeFailure) return fail(error.code, error.message);
    throw error;
  }
}

function decodeValue(r: Reader, depth: number): unknown {
  const prefix = r.u8();
  if (prefix < 0x80) return prefix; // positive fixint
  if (prefix >= 0xe0) return prefix - 0x100; // negative fixint
  if (prefix < 0x90) return decodeMap(r, prefix & 0x0f, depth);
  if (prefix < 0xa0) return decodeArray(r, prefix & 0x0f, depth);
  if (prefix < 0xc0) return decodeString(r, prefix & 0x1f);
  return decodeTagged(r, prefix, depth);
}

function decodeTagged(r: Reader, prefix: number, depth: number): unknown {
  const v = r.view;
  switch (prefix) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
    case 0xc5:
    case 0xc6:
      return decodeBinary(r, readSize(r, prefix - 0xc4));
    case 0xc7:
    case 0xc8:
    case 0xc9:
      return decodeExt(r, readSize(r, prefix - 0xc7), false);
    case 0xca:
      return v.getFloat32(r.take(4));
    case 0xcb:
      return v.getFloat64(r.take(8));
    case 0xcc:
    case 0xcd:
    case 0xce:
      return readSize(r, prefix - 0xcc);
    case 0xcf:
      return r.u32() * TWO_32 + r.u32();
    case 0xd0:
      return v.getInt8(r.take(1));
    case 0xd1:
      return v.getInt16(r.take(2));
    case 0xd2:
      return v.getInt32(r.take(4));
    case 0xd3:
      return v.getInt32(r.take(4)) * TWO_32 + r.u32();
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8:
      return decodeExt(r, 1 << (prefix - 0xd4), true);
    case 0xd9:
    case 0xda:
    case 0xdb:
      return decodeString(r, readSize(r, prefix - 0xd9));
    case 0xdc:
    case 0xdd:
      return decodeArray(r, readSize(r, prefix - 0xdb), depth);
    case 0xde:
    case 0xdf:
      return decodeMap(r, readSize(r, prefix - 0xdd), depth);
    default:
      throw new DecodeFailure(
        ErrorCode.INVALID_PAYLOAD,
        `unknown msgpack prefix 0x${prefix.toString(16)}`,
      );
  }
}

/** Reads a 8 (kind 0), 16 (kind 1) or 32-bit (kind 2) unsigned size. */
function readSize(r: Reader, kind: number): number {
  if (kind === 0) return r.u8();
  return kind === 1 ? r.u16() : r.u32();
}

function decodeString(r: Reader, length: number): string {
  const at = r.take(length);
  return utf8Decoder.decode(r.bytes.subarray(at, at + length));
}

function decodeBinary(r: Reader, length: number): Buffer {
  const at = r.take(length);
  return Buffer.from(r.bytes.subarray(at, at + length));
}

function decodeArray(r: Reader, length: number, depth: number): unknown[] {
  if (depth >= r.maxDepth) throw tooDeep(r.maxDepth);
  const items = new Array<unknown>(r.count(length, 1));
  for (let i = 0; i < length; i++) items[i] = decodeValue(r, depth + 1);
  return items;
}

function decodeMap(r: Reader, length: number, depth: number): Record<string, unknown> {
  if (depth >= r.maxDepth) throw tooDeep(r.maxDepth);
  const record: Record<string, unknown> = {};
  r.count(length, 2);
  for (let i = 0; i < length; i++) {
    const key = decodeValue(r, depth + 1);
    if (typeof key === "object" && key !== null) {
      throw new DecodeFailure(ErrorCode.INVALID_PAYLOAD, "msgpack map key is not a string");
    }
    const value = decodeValue(r, depth + 1);
    // defineProperty, so that a "__proto__" key is data and never replaces the prototype
    Object.defineProperty(record, String(key), {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return record;
}

/**
 * Extension types: timestamps (-1), notepack's legacy type 0 (fixext 1: `undefined`,
 * fixext 8: Date in ms, ext 8/16/32: ArrayBuffer); any other as `[type, bytes]`.
 */
function decodeExt(r: Reader, length: number, isFixed: boolean): unknown {
  const type = r.view.getInt8(r.take(1));
  if (type === 0 && isFixed && length === 1) {
    r.take(1);
    return undefined;
  }
  if (type === 0 && isFixed && length === 8) {
    return new Date(r.view.getInt32(r.take(4)) * TWO_32 + r.u32());
  }
  if (type === 0 && !isFixed) {
    const at = r.take(length);
    return r.bytes.slice(at, at + length).buffer;
  }
  if (type === -1 && (length === 4 || length === 8 || length === 12)) {
    return decodeTimestamp(r, length);
  }
  return [type, decodeBinary(r, length)];
}

function decodeTimestamp(r: Reader, length: number): Date {
  if (length === 4) return new Date(r.u32() * 1000);
  if (length === 8) {
    const hi = r.u32();
    const lo = r.u32();
    return new Date(((hi & 0x3) * TWO_32 + lo) * 1000 + (hi >>> 2) / 1e6);
  }
  const ns = r.u32();
  const sec = r.view.getInt32(r.take(4)) * TWO_32 + r.u32();
  return new Date(sec * 1000 + ns / 1e6);
}

function tooDeep(maxDepth: number): DecodeFailure {
  return new DecodeFailure(
    ErrorCode.NESTING_TOO_DEEP,
    `msgpack nests deeper than ${maxDepth} levels`,
  );
}
