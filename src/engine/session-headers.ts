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
