/**
 * HTTP compression of polling responses (engine.io's `httpCompression` option): gzip or
 * deflate, chosen from the request's `Accept-Encoding`, for bodies of at least `threshold`
 * bytes. Compression runs on libuv's thread pool through `node:zlib`.
 */
import { deflate, gzip } from "node:zlib";

/** A content coding we can produce. */
export type ContentCoding = "gzip" | "deflate";

const PREFERENCE: readonly ContentCoding[] = ["gzip", "deflate"];

/**
 * Picks the coding to use for an `Accept-Encoding` header (RFC 9110 §12.5.3): the accepted
 * coding with the highest q-value, gzip on ties, `*` standing for any coding not listed.
 */
export function negotiateEncoding(header: string | undefined): ContentCoding | undefined {
  if (header === undefined || header === "") return undefined;
  const weights = new Map<string, number>();
  for (const part of header.split(",")) {
    const [rawName = "", ...params] = part.toLowerCase().split(";");
    const name = rawName.trim();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split("=");
      if (key === "q" && value !== undefined) q = Number.parseFloat(value);
    }
    if (name !== "" && !Number.isNaN(q)) weights.set(name, q);
  }
  let best: ContentCoding | undefined;
  let bestQ = 0;
  for (const coding of PREFERENCE) {
    const q = weights.get(coding) ?? weights.get("*") ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/** Compresses `body` with `coding`; calls back with the compressed bytes or an error. */
export function compressBody(
  body: Buffer,
  coding: ContentCoding,
  callback: (err: Error | null, result: Buffer) => void,
): void {
  if (coding === "gzip") gzip(body, callback);
  else deflate(body, callback);
}
