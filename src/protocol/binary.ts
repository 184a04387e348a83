/**
 * Binary attachments of Socket.IO packets (socket.io-protocol v5 §packet-encoding).
 *
 * Before sending, every binary value inside a packet's data is swapped for a placeholder
 * `{"_placeholder":true,"num":N}` and sent as its own Engine.IO message after the text
 * header (`deconstructData`). On receipt the placeholders are swapped back for the binary
 * messages, in order (`reconstructData`). Runs in browsers, workers and Node: only
 * `ArrayBuffer`, its views and (where it exists) `Blob` count as binary.
 */
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";

/** A binary value that may sit inside packet data: bytes, any ArrayBuffer view, or a Blob. */
export type BinaryData = ArrayBuffer | ArrayBufferView | Blob;

/** Packet data with its binaries swapped for placeholders, and the binaries in order. */
export interface DeconstructedData {
  /** The data with every binary replaced by `{ _placeholder: true, num }`. */
  readonly data: unknown;
  /** The binaries, indexed by placeholder `num`. */
  readonly attachments: BinaryData[];
}

/** The placeholder that stands in for attachment `num` (socket.io-protocol v5). */
export interface Placeholder {
  readonly _placeholder: true;
  readonly num: number;
}

type ToJSONable = { toJSON: (key: string) => unknown };

// The Blob class, looked up once: in Node the global is a getter function, which every
// isBinary call on an object would otherwise run twice. Undefined where there is none.
const BlobClass: typeof Blob | undefined = (globalThis as { Blob?: typeof Blob }).Blob;

/** True when the value is an ArrayBuffer, an ArrayBuffer view (Uint8Array, Buffer, DataView...) or a Blob. */
export function isBinary(value: unknown): value is BinaryData {
  return (
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (BlobClass !== undefined && value instanceof BlobClass)
  );
}

function hasToJSON(value: object): value is ToJSONable {
  return typeof (value as { toJSON?: unknown }).toJSON === "function";
}

/**
 * True when the value holds binary data anywhere. Objects with a `toJSON` method are looked
 * at through it, as `JSON.stringify` would serialise them.
 */
export function hasBinary(value: unknown): boolean {
  return containsBinary(value, "", true);
}

// hot path: runs on every emit; returns at the first binary found and allocates nothing
// unless a toJSON method has to be called. Primitives are skipped before the call: a cold
// emit of a flat object then makes two calls here, not one per field.
function containsBinary(value: unknown, key: string | number, allowToJSON: boolean): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null && containsBinary(item, i, true)) return true;
    }
    return false;
  }
  if (isBinary(value)) return true;
  if (allowToJSON && hasToJSON(value)) {
    // JSON.stringify calls toJSON once and serialises the result as it is.
    return containsBinary(value.toJSON(String(key)), key, false);
  }
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const item = (value as Record<string, unknown>)[k];
    if (typeof item === "object" && item !== null && containsBinary(item, k, true)) return true;
  }
  return false;
}

/** Defines an own enumerable property, safe even for the key `"__proto__"`. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

/**
 * Copies packet data with every binary swapped for a numbered placeholder, numbering them in
 * the order `JSON.stringify` visits them. The input is not modified.
 */
export function deconstructData(data: unknown): DeconstructedData {
  const attachments: BinaryData[] = [];
  return { data: replaceBinaries(data, "", attachments, true), attachments };
}

function replaceBinaries(
  value: unknown,
  key: string,
  attachments: BinaryData[],
  allowToJSON: boolean,
): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (isBinary(value)) {
    const placeholder: Placeholder = { _placeholder: true, num: attachments.length };
    attachments.push(value);
    return placeholder;
  }
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      copy[i] = replaceBinaries(value[i], String(i), attachments, true);
    }
    return copy;
  }
  if (allowToJSON && hasToJSON(value)) {
    return replaceBinaries(value.toJSON(key), key, attachments, false);
  }
  const copy: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    setOwn(copy, k, replaceBinaries((value as Record<string, unknown>)[k], k, attachments, true));
  }
  return copy;
}

function isPlaceholderLike(value: object): boolean {
  return !Array.isArray(value) && (value as { _placeholder?: unknown })._placeholder === true;
}

/**
 * Swaps every placeholder in freshly parsed JSON data for its attachment, in place, and
 * returns the data. The attachments are inserted as the very objects given. Fails with
 * `INVALID_PLACEHOLDER` when a placeholder's `num` is not an integer index into
 * `attachments`. Walks iteratively, so deep input cannot overflow the stack; `data` must be
 * a tree (as `JSON.parse` returns).
 */
export function reconstructData(
  data: unknown,
  attachments: readonly unknown[],
): Result<unknown, ProtocolError> {
  const root: unknown[] = [data];
  const stack: object[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const failure = Array.isArray(node)
      ? reconstructArray(node, attachments, stack)
      : reconstructObject(node as Record<string, unknown>, attachments, stack);
    if (failure !== undefined) return { ok: false, error: failure };
  }
  return ok(root[0]);
}

function reconstructArray(
  node: unknown[],
  attachments: readonly unknown[],
  stack: object[],
): ProtocolError | undefined {
  for (let i = 0; i < node.length; i++) {
    const child = node[i];
    if (typeof child !== "object" || child === null) continue;
    if (!isPlaceholderLike(child)) {
      stack.push(child);
      continue;
    }
    const attachment = lookupAttachment(child, attachments);
    if (!attachment.ok) return attachment.error;
    node[i] = attachment.value;
  }
  return undefined;
}

function reconstructObject(
  node: Record<string, unknown>,
  attachments: readonly unknown[],
  stack: object[],
): ProtocolError | undefined {
  for (const key of Object.keys(node)) {
    const child = node[key];
    if (typeof child !== "object" || child === null) continue;
    if (!isPlaceholderLike(child)) {
      stack.push(child);
      continue;
    }
    const attachment = lookupAttachment(child, attachments);
    if (!attachment.ok) return attachment.error;
    setOwn(node, key, attachment.value);
  }
  return undefined;
}

function lookupAttachment(
  placeholder: object,
  attachments: readonly unknown[],
): Result<unknown, ProtocolError> {
  const num = (placeholder as { num?: unknown }).num;
  if (typeof num !== "number" || !Number.isInteger(num)) {
    return fail(ErrorCode.INVALID_PLACEHOLDER, "placeholder num is not an integer");
  }
  if (num < 0 || num >= attachments.length) {
    return fail(
      ErrorCode.INVALID_PLACEHOLDER,
      `placeholder num ${num} is out of range (0..${attachments.length - 1})`,
    );
  }
  return ok(attachments[num]);
}
