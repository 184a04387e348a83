/**
 * Base64 for the Engine.IO polling transport's `b` packets, over plain `Uint8Array`s so the
 * codec runs unchanged in browsers, workers and Node. Where Node's `Buffer` exists its
 * native base64 does the work (a 1 MB attachment: ~1 ms against ~10 in the loops below);
 * elsewhere the portable loops do, which `base64.test.ts` checks against it.
 */
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Uint8Array(128).fill(255);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;
// Accept the URL-safe alphabet too: some clients emit it.
LOOKUP["-".charCodeAt(0)] = 62;
LOOKUP["_".charCodeAt(0)] = 63;

/** Node's Buffer, looked up once: undefined in browsers and workers. */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

// What a base64 text may hold from its start on: either alphabet, then at most two "=".
const BASE64_TEXT = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Encodes bytes as standard, padded base64. */
export function encodeBase64(bytes: Uint8Array): string {
  if (NodeBuffer === undefined) return encodeBase64Portable(bytes);
  return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/**
 * Decodes base64 (standard or URL-safe, padded or not) from `start` on, into a new
 * `Uint8Array` of its own; rejects any other character, and a length no encoding gives.
 */
export function decodeBase64(text: string, start = 0): Result<Uint8Array, ProtocolError> {
  if (NodeBuffer === undefined) return decodeBase64Portable(text, start);
  const body = start === 0 ? text : text.slice(start);
  let end = body.length;
  while (end > 0 && body.charCodeAt(end - 1) === 61 /* = */) end--;
  // Anything Buffer would skip or misread: the portable decoder names the fault.
  if (end % 4 === 1 || !BASE64_TEXT.test(body)) return decodeBase64Portable(text, start);
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  NodeBuffer.from(out.buffer).write(body, "base64");
  return ok(out);
}

/** {@link encodeBase64} without Node's Buffer. @internal (exported for its tests) */
export function encodeBase64Portable(bytes: Uint8Array): string {
  let out = "";
  const len = bytes.length;
  let i = 0;
  for (; i + 2 < len; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[(n >> 18) & 63]! +
      ALPHABET[(n >> 12) & 63]! +
      ALPHABET[(n >> 6) & 63]! +
      ALPHABET[n & 63]!;
  }
  const rest = len - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${ALPHABET[(n >> 18) & 63]!}${ALPHABET[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${ALPHABET[(n >> 18) & 63]!}${ALPHABET[(n >> 12) & 63]!}${ALPHABET[(n >> 6) & 63]!}=`;
  }
  return out;
}

/** {@link decodeBase64} without Node's Buffer. @internal (exported for its tests) */
export function decodeBase64Portable(text: string, start = 0): Result<Uint8Array, ProtocolError> {
  let end = text.length;
  while (end > start && text.charCodeAt(end - 1) === 61 /* = */) end--;
  const len = end - start;
  if (len % 4 === 1 || text.length - end > 2)
    return fail(ErrorCode.INVALID_BASE64, "invalid base64 length");
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : 255;
    if (v === 255) return fail(ErrorCode.INVALID_BASE64, `invalid base64 character at ${i}`);
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return ok(out);
}
