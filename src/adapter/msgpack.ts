/**
 * MessagePack (https://github.com/msgpack/msgpack/blob/master/spec.md), the format nodes of a
 * cluster speak to each other, so that binary payloads cross the broker as bytes instead of
 * base64 text.
 *
 * The encoder makes the same choices as notepack.io, the codec `@socket.io/redis-adapter`
 * uses, so both sides produce identical bytes: integers take the smallest int/uint format,
 * every other number is a float 64, `undefined` is nil (and object keys holding `undefined`
 * or functions are left out), `Date` is the timestamp extension (-1), binary values are
 * `bin`, and objects with `toJSON` are encoded through it. Two deliberate differences:
 * an ArrayBuffer view is encoded as the bytes it covers (notepack copies a `Uint16Array`
 * element by element, truncating), and an invalid `Date` becomes nil, as in JSON.
 *
 * The decoder never throws on input: it returns a {@link Result}. It reads every format of
 * the spec plus notepack's legacy extensions (type 0: `undefined`, ArrayBuffer, Date),
 * checks every length against the bytes left before allocating, limits nesting, and
 * refuses trailing bytes. `bin` values come back as Node `Buffer`s (copies), as Socket.IO
 * hands binary data to server-side handlers.
 */
export { decodeMsgpack, type MsgpackDecodeLimits } from "./msgpack-decode.js";

const MAX_ENCODE_DEPTH = 1000;
const TWO_32 = 0x1_0000_0000;
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;
const TIMESTAMP32_MAX_SEC = TWO_32 - 1;
const TIMESTAMP64_MAX_SEC = 0x4_0000_0000 - 1;
const utf8Encoder = new TextEncoder();

/** Format codes of the 8, 16 and 32-bit size forms of a type. */
type SizeCodes = readonly [number | undefined, number, number];
const STR_CODES: SizeCodes = [0xd9, 0xda, 0xdb];
const ARRAY_CODES: SizeCodes = [undefined, 0xdc, 0xdd];
const MAP_CODES: SizeCodes = [undefined, 0xde, 0xdf];
const BIN_CODES: SizeCodes = [0xc4, 0xc5, 0xc6];

/** A growable byte buffer. */
class Writer {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  length = 0;

  ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.length++] = value & 0xff;
  }

  u16(value: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, value);
    this.length += 2;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
  }

  i32(value: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, value);
    this.length += 4;
  }

  f64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, value);
    this.length += 8;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /**
   * A header whose size field grows with `size`: the fix form (`fix | size` below `fixMax`),
   * then the 8, 16 and 32-bit forms (`codes`; no 8-bit form when it is undefined).
   */
  header(size: number, fix: number, fixMax: number, codes: SizeCodes): void {
    const [c8, c16, c32] = codes;
    if (size < fixMax) this.u8(fix | size);
    else if (c8 !== undefined && size < 0x100) {
      this.u8(c8);
      this.u8(size);
    } else if (size < 0x10000) {
      this.u8(c16);
      this.u16(size);
    } else {
      this.u8(c32);
      this.u32(size);
    }
  }
}

/**
 * Encodes a value as MessagePack, byte for byte as notepack.io does.
 * Throws a TypeError for values that have no encoding (symbols, bigints without `toJSON`,
 * functions inside arrays) and for nesting past 1000 levels (a circular structure).
 */
export function encodeMsgpack(value: unknown): Uint8Array {
  const writer = new Writer();
  encodeValue(writer, value, 0);
  return writer.bytes.subarray(0, writer.length);
}

function encodeValue(w: Writer, value: unknown, depth: number): void {
  if (typeof value === "string") encodeString(w, value);
  else if (typeof value === "number") encodeNumber(w, value);
  else if (typeof value === "boolean") w.u8(value ? 0xc3 : 0xc2);
  else if (value === undefined || value === null) w.u8(0xc0);
  else if (depth >= MAX_ENCODE_DEPTH) {
    throw new TypeError(`cannot encode: value nests deeper than ${MAX_ENCODE_DEPTH} levels`);
  } else if (typeof value === "object") encodeObject(w, value, depth + 1);
  else if (hasToJSON(value)) encodeValue(w, value.toJSON(), depth + 1);
  else throw new TypeError(`cannot encode a ${typeof value} as MessagePack`);
}

function encodeString(w: Writer, value: string): void {
  const bytes = utf8Encoder.encode(value);
  w.header(bytes.length, 0xa0, 0x20, STR_CODES); // fixstr 101xxxxx
  w.raw(bytes);
}

function encodeNumber(w: Writer, value: number): void {
  // Integers past 64 bits are floats: notepack.io would write garbage for them.
  if (!Number.isInteger(value) || value >= TWO_64 || value < -TWO_63) {
    w.u8(0xcb);
    w.f64(value);
  } else if (value >= 0) {
    encodeUnsigned(w, value);
  } else if (value >= -0x20) {
    w.u8(value); // negative fixint 111xxxxx
  } else if (value >= -0x80) {
    w.u8(0xd0);
    w.u8(value);
  } else if (value >= -0x8000) {
    w.u8(0xd1);
    w.u16(value & 0xffff);
  } else if (value >= -0x8000_0000) {
    w.u8(0xd2);
    w.i32(value);
  } else {
    const hi = Math.floor(value / TWO_32);
    w.u8(0xd3);
    w.i32(hi);
    w.u32(value - hi * TWO_32);
  }
}

function encodeUnsigned(w: Writer, value: number): void {
  if (value < 0x80) {
    w.u8(value); // positive fixint
  } else if (value < 0x100) {
    w.u8(0xcc);
    w.u8(value);
  } else if (value < 0x10000) {
    w.u8(0xcd);
    w.u16(value);
  } else if (value < TWO_32) {
    w.u8(0xce);
    w.u32(value);
  } else {
    const hi = Math.floor(value / TWO_32);
    w.u8(0xcf);
    w.u32(hi);
    w.u32(value - hi * TWO_32);
  }
}

function encodeObject(w: Writer, value: object, depth: number): void {
  if (Array.isArray(value)) {
    w.header(value.length, 0x90, 0x10, ARRAY_CODES); // fixarray 1001xxxx
    for (const item of value) encodeValue(w, item, depth);
  } else if (value instanceof Date) {
    encodeDate(w, value);
  } else if (value instanceof ArrayBuffer) {
    encodeBinary(w, new Uint8Array(value));
  } else if (ArrayBuffer.isView(value)) {
    encodeBinary(w, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  } else if (hasToJSON(value)) {
    encodeValue(w, value.toJSON(), depth);
  } else {
    encodeRecord(w, value as Record<string, unknown>, depth);
  }
}

function encodeRecord(w: Writer, record: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(record).filter((key) => {
    const item = record[key];
    return item !== undefined && typeof item !== "function";
  });
  w.header(keys.length, 0x80, 0x10, MAP_CODES); // fixmap 1000xxxx
  for (const key of keys) {
    encodeString(w, key);
    encodeValue(w, record[key], depth);
  }
}

function encodeBinary(w: Writer, bytes: Uint8Array): void {
  w.header(bytes.length, 0, 0, BIN_CODES); // no fix form for bin
  w.raw(bytes);
}

/** The timestamp extension (type -1), in its 32, 64 or 96-bit form. */
function encodeDate(w: Writer, date: Date): void {
  const ms = date.getTime();
  if (Number.isNaN(ms)) {
    w.u8(0xc0);
    return;
  }
  const sec = Math.floor(ms / 1000);
  const ns = (ms - sec * 1000) * 1e6;
  const hi = Math.floor(sec / TWO_32);
  if (sec >= 0 && sec <= TIMESTAMP32_MAX_SEC && ns === 0) {
    w.u8(0xd6);
    w.u8(0xff);
    w.u32(sec);
  } else if (sec >= 0 && sec <= TIMESTAMP64_MAX_SEC) {
    w.u8(0xd7);
    w.u8(0xff);
    w.u32(ns * 4 + hi); // 30 bits of nanoseconds, then the top 2 bits of the seconds
    w.u32(sec - hi * TWO_32);
  } else {
    w.u8(0xc7);
    w.u8(12);
    w.u8(0xff);
    w.u32(ns);
    w.i32(hi);
    w.u32(sec - hi * TWO_32);
  }
}

function hasToJSON(value: unknown): value is { toJSON(): unknown } {
  if (value === null || (typeof value !== "object" && typeof value !== "bigint")) return false;
  return typeof (value as { toJSON?: unknown }).toJSON === "function";
}
