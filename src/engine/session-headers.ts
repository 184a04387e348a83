/**
 * Shared header values for the handshake headers every session keeps (`socket.handshake`
 * and `socket.request` read them for the life of the connection).
 *
 * Memory per idle session: Node's HTTP parser makes a new string for every header value of
 * every request, yet most values repeat from one client to the next (`Upgrade`,
 * `websocket`, `13`, the offered extensions, the host, the user agent): about 180 bytes per
 * connection for a socket.io-client. Values of the headers named here are replaced, in the
 * request's own headers object, by one shared string per distinct value; values that are
 * unique per request (keys, cookies, addresses) are never looked at.
 */
import type { IncomingHttpHeaders } from "node:http";

// Headers whose values come from a small set shared by many clients.
const SHARED_NAMES: ReadonlySet<string> = new Set([
  "host",
  "connection",
  "upgrade",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "user-agent",
  "accept",
  "accept-encoding",
  "accept-language",
  "cache-control",
  "pragma",
  "origin",
]);

/** Bounds of the table: how many distinct values, and the longest one kept. */
const MAX_VALUES = 512;
const MAX_LENGTH = 512;

// A module-level table, as the random-id pool: it only holds strings clients sent in
// headers that are the same for everyone, so sharing it between servers couples nothing.
// Once full it stops growing; the values already in it keep being shared.
const values = new Map<string, string>();

/**
 * Replaces, in place, the values of the shared headers of `headers` by the equal string
 * kept from an earlier request. Every value stays equal to what the client sent.
 */
export function shareHeaderValues(headers: IncomingHttpHeaders): void {
  for (const name in headers) {
    if (!SHARED_NAMES.has(name)) continue;
    const value = headers[name];
    if (typeof value !== "string" || value.length > MAX_LENGTH) continue;
    const shared = values.get(value);
    if (shared !== undefined) headers[name] = shared;
    else if (values.size < MAX_VALUES) values.set(value, value);
  }
}

// Handshake URLs that carry only the Engine.IO parameters: the server's path with `EIO` and
// `transport` (every socket.io-client WebSocket handshake without a custom query), and the
// namespace a Switchboard client connects in its handshake (`sb_connect`).
const ENGINE_ONLY_URL = /^[^?#]*\?(?:(?:EIO|transport|sb_connect)=[A-Za-z0-9/_-]*(?:&|$))*$/;
const MAX_URLS = 16;
const urls = new Map<string, string>();

/**
 * The handshake URL `url`, as one shared string when it carries only the Engine.IO
 * parameters. Memory per idle session: each request's URL is a new string from the
 * parser (56 bytes for `/socket.io/?EIO=4&transport=websocket`), kept for `socket.request`
 * and `socket.handshake`. URLs with any other parameter (a token, the polling `t`, a `sid`)
 * are returned as they are and never kept.
 */
export function shareUrl(url: string): string {
  const shared = urls.get(url);
  if (shared !== undefined) return shared;
  if (urls.size < MAX_URLS && url.length <= MAX_LENGTH && ENGINE_ONLY_URL.test(url)) {
    urls.set(url, url);
  }
  return url;
}
