/**
 * `Blob` arguments: their bytes are only readable asynchronously, so packets holding one
 * are converted (in order, by the Manager) before encoding. Other binaries go to the
 * encoder as they are.
 */

// Arrays and plain objects are searched; anything else is a leaf.
const children = (v: unknown): unknown[] =>
  Array.isArray(v) || (v as object)?.constructor === Object ? Object.values(v as object) : [];

/** Whether a value holds a `Blob` anywhere in its arrays and plain objects. */
export const hasBlob = (v: unknown): boolean =>
  typeof Blob !== "undefined" && (v instanceof Blob || children(v).some(hasBlob));

/** A copy of `v` with every `Blob` replaced by its bytes. */
export async function readBlobs(v: unknown): Promise<unknown> {
  if (v instanceof Blob) return new Uint8Array(await v.arrayBuffer());
  if (!children(v).length) return v;
  const out = (Array.isArray(v) ? [] : {}) as Record<string, unknown>;
  for (const [k, x] of Object.entries(v as object)) out[k] = await readBlobs(x);
  return out;
}
