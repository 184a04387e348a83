/**
 * What both ends of a WebSocket connection (RFC 6455) share: opcodes, masking, close
 * statuses. The engine's server side (src/engine/transports/raw-websocket.ts) and the Node
 * client's (src/client/node-websocket.ts) read and write frames with them.
 */

/** The GUID both ends append to the handshake key to get its accept value (RFC 6455 §4.2.2). */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** An HTTP token (RFC 9110 §5.6.2): a header name, a subprotocol name. */
export const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Opcodes (RFC 6455 §5.2).
export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/**
 * Masks or unmasks (the same XOR, RFC 6455 §5.3) `buf[start..end)` in place with the
 * 4-byte key at `buf[keyAt..keyAt + 4)`: through `native` (see {@link loadNativeUnmask}) for
 * payloads of 2 KB or more when it is given, in JavaScript otherwise.
 */
export function applyMask(
  buf: Uint8Array,
  keyAt: number,
  start: number,
  end: number,
  native: NativeUnmask | null = null,
): void {
  if (native !== null && end - start >= NATIVE_FROM) {
    native(buf.subarray(start, end), buf.subarray(keyAt, keyAt + 4));
    return;
  }
  const k0 = buf[keyAt]!;
  const k1 = buf[keyAt + 1]!;
  const k2 = buf[keyAt + 2]!;
  const k3 = buf[keyAt + 3]!;
  if ((k0 | k1 | k2 | k3) === 0) return;
  if (end - start >= WORDS_FROM) {
    maskWords(buf, keyAt, start, end);
    return;
  }
  maskBytes(buf, k0, k1, k2, k3, start, end);
}

/**
 * An in-place XOR of `data` with the 4-byte `key` repeated from its first byte: the `unmask`
 * of the optional native package `bufferutil`, which `ws` uses as well.
 */
export type NativeUnmask = (data: Uint8Array, key: Uint8Array) => void;

// Payloads from this size on go to the native function when there is one: below it, the
// two views it takes cost more than it saves (1 KB: 421 ns native, 425 in JavaScript; 4 KB:
// 613 against 1,194; 1 MB: 45 against 261 us).
const NATIVE_FROM = 2048;

/**
 * `bufferutil`'s native `unmask` when `load` (Node's `require`) finds the package and
 * `disabled` is unset or empty (the `WS_NO_BUFFER_UTIL` variable, as in `ws`); otherwise
 * null, and masking stays in JavaScript. The package's own JavaScript fallback, which it
 * exports when its addon does not load, is slower than ours and is not used.
 */
export function loadNativeUnmask(
  load: (id: string) => unknown,
  disabled: string | undefined,
): NativeUnmask | null {
  if (disabled !== undefined && disabled !== "") return null;
  let unmask: unknown;
  try {
    unmask = (load("bufferutil") as { unmask?: unknown } | null)?.unmask;
  } catch {
    return null; // not installed: an optional dependency, nothing to report
  }
  if (typeof unmask !== "function") return null;
  return /\[native code\]/.test(Function.prototype.toString.call(unmask))
    ? (unmask as NativeUnmask)
    : null;
}

/** XORs `buf[start..end)` byte by byte with the key `k0..k3`, which starts at `start`. */
function maskBytes(
  buf: Uint8Array,
  k0: number,
  k1: number,
  k2: number,
  k3: number,
  start: number,
  end: number,
): void {
  let i = start;
  for (const last = end - 3; i < last; i += 4) {
    buf[i] = buf[i]! ^ k0;
    buf[i + 1] = buf[i + 1]! ^ k1;
    buf[i + 2] = buf[i + 2]! ^ k2;
    buf[i + 3] = buf[i + 3]! ^ k3;
  }
  if (i === end) return;
  // The last 1-3 bytes run the same operations whatever their number, so V8's type feedback
  // from the first tail covers every later one: a statement per byte made the first tail
  // longer than all before it throw away the compiled function (which V8 then compiled again).
  const tail = k0 | (k1 << 8) | (k2 << 16);
  for (let shift = 0; i < end; i++, shift += 8) buf[i] = buf[i]! ^ ((tail >>> shift) & 0xff);
}

// Payloads from this size on are masked 32 bits at a time, through a word view of the
// aligned part: 2x faster at 600 bytes, 4x from 64 KB (a 1 MB upload's unmasking,
// optimised: 0.15-0.18 ms against 0.62 byte by byte). Below it, making the view costs
// more than the words save.
const WORDS_FROM = 512;
// The key as a 32-bit word in memory order, whatever the platform's endianness. Int32,
// not Uint32: an XOR is an int32, and a Uint32Array would hand V8 values above 2^31.
const KEY_BYTES = new Uint8Array(4);
const KEY_WORD = new Int32Array(KEY_BYTES.buffer);

/**
 * XORs `buf[start..end)` with the key at `buf[keyAt..keyAt + 4)`, which starts at `start`:
 * the bytes before the first 4-byte-aligned word one by one, then whole words, then the rest.
 */
function maskWords(buf: Uint8Array, keyAt: number, start: number, end: number): void {
  const k0 = buf[keyAt]!;
  const k1 = buf[keyAt + 1]!;
  const k2 = buf[keyAt + 2]!;
  const k3 = buf[keyAt + 3]!;
  let i = start;
  const lead = (4 - ((buf.byteOffset + start) & 3)) & 3; // bytes before the first word
  if (lead > 0) buf[i] = buf[i++]! ^ k0;
  if (lead > 1) buf[i] = buf[i++]! ^ k1;
  if (lead > 2) buf[i] = buf[i++]! ^ k2;
  // From i on the key starts at its byte `lead`: rotate it by that much.
  const r0 = lead === 0 ? k0 : lead === 1 ? k1 : lead === 2 ? k2 : k3;
  const r1 = lead === 0 ? k1 : lead === 1 ? k2 : lead === 2 ? k3 : k0;
  const r2 = lead === 0 ? k2 : lead === 1 ? k3 : lead === 2 ? k0 : k1;
  const r3 = lead === 0 ? k3 : lead === 1 ? k0 : lead === 2 ? k1 : k2;
  KEY_BYTES[0] = r0;
  KEY_BYTES[1] = r1;
  KEY_BYTES[2] = r2;
  KEY_BYTES[3] = r3;
  const key = KEY_WORD[0]!;
  const count = (end - i) >>> 2;
  const words = new Int32Array(buf.buffer, buf.byteOffset + i, count);
  let w = 0;
  for (const last = count - 3; w < last; w += 4) {
    words[w] = words[w]! ^ key;
    words[w + 1] = words[w + 1]! ^ key;
    words[w + 2] = words[w + 2]! ^ key;
    words[w + 3] = words[w + 3]! ^ key;
  }
  for (; w < count; w++) words[w] = words[w]! ^ key;
  maskBytes(buf, r0, r1, r2, r3, i + count * 4, end); // the last 0-3 bytes
}

/** RFC 6455 §7.4: the status codes an endpoint may send in a close frame. */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}

const utf8 = new TextEncoder();

/** A close frame's payload: `code`, then `reason` in UTF-8. */
export function closePayload(code: number, reason: string): Uint8Array {
  const text = utf8.encode(reason);
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >>> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return payload;
}

/**
 * The header of a frame of `length` payload bytes, written at the start of `frame`: FIN and
 * `opcode`, the length in 7, 16 or 64 bits, and the mask bit when `isMasked` (the 4-byte key
 * is then the caller's to write right after). Returns the header's size without the key.
 */
export function writeFrameHeader(
  frame: Uint8Array,
  opcode: number,
  length: number,
  isMasked: boolean,
): number {
  const maskBit = isMasked ? 0x80 : 0;
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = maskBit | length;
    return 2;
  }
  if (length < 65_536) {
    frame[1] = maskBit | 126;
    frame[2] = length >>> 8;
    frame[3] = length & 0xff;
    return 4;
  }
  frame[1] = maskBit | 127;
  const high = Math.floor(length / 0x1_0000_0000);
  const low = length >>> 0;
  frame[2] = 0;
  frame[3] = 0;
  frame[4] = (high >>> 8) & 0xff;
  frame[5] = high & 0xff;
  frame[6] = low >>> 24;
  frame[7] = (low >>> 16) & 0xff;
  frame[8] = (low >>> 8) & 0xff;
  frame[9] = low & 0xff;
  return 10;
}

/** The head of a frame, as {@link readFrameHead} reads it. */
export interface FrameHead {
  /** FIN: the last frame of its message. */
  fin: boolean;
  /** The RSV1-3 bits (0 without extensions). */
  rsv: number;
  opcode: number;
  /** Whether a masking key follows the length (it is the head's last 4 bytes). */
  masked: boolean;
  /** The payload's length; `Infinity` past 2^53 - 1, which no limit allows. */
  length: number;
  /** The head's size in bytes, masking key included. */
  size: number;
}

/** A FrameHead to read into, reused by the caller: no object per frame. */
export function newFrameHead(): FrameHead {
  return { fin: false, rsv: 0, opcode: 0, masked: false, length: 0, size: 0 };
}

/**
 * Reads the head of the frame at `buf[offset]` into `head` (RFC 6455 §5.2): false while
 * `buf` does not hold all of it.
 */
export function readFrameHead(buf: Uint8Array, offset: number, head: FrameHead): boolean {
  const available = buf.length - offset;
  if (available < 2) return false;
  const b0 = buf[offset]!;
  const b1 = buf[offset + 1]!;
  const masked = (b1 & 0x80) !== 0;
  let length = b1 & 0x7f;
  let size = 2;
  if (length === 126) {
    size = 4;
    if (available < size) return false;
    length = (buf[offset + 2]! << 8) | buf[offset + 3]!;
  } else if (length === 127) {
    size = 10;
    if (available < size) return false;
    const high =
      buf[offset + 2]! * 0x100_0000 +
      (buf[offset + 3]! << 16) +
      (buf[offset + 4]! << 8) +
      buf[offset + 5]!;
    const low =
      buf[offset + 6]! * 0x100_0000 +
      (buf[offset + 7]! << 16) +
      (buf[offset + 8]! << 8) +
      buf[offset + 9]!;
    length = high > 0x1f_ffff ? Number.POSITIVE_INFINITY : high * 0x1_0000_0000 + low;
  }
  if (masked) size += 4;
  if (available < size) return false;
  head.fin = (b0 & 0x80) !== 0;
  head.rsv = b0 & 0x70;
  head.opcode = b0 & 0x0f;
  head.masked = masked;
  head.length = length;
  head.size = size;
  return true;
}

/** The size of a frame header for `length` payload bytes, without a masking key. */
export function frameHeaderSize(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}
