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
import { knownUrl } from "./handshake.js";

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

/** A header value as Node parses it. */
export type HeaderValue = string | string[] | undefined;

// Headers a session does not keep: only the WebSocket handshake reads them, and each value
// is unique to its request (40 bytes per connection for the key).
const DROPPED_NAMES: ReadonlySet<string> = new Set(["sec-websocket-key"]);

// Name lists seen lately, shared by every session whose request had those headers in that
// order (clients of one kind send the same headers in the same order).
const MAX_NAME_LISTS = 8;
const nameLists: (readonly string[])[] = [];

/**
 * The names of the headers a session keeps of `headers`, in order: one list shared by the
 * sessions whose requests had the same headers in the same order. Memory per idle session:
 * with {@link keptValues}, a values array and a shared names list instead of a headers
 * object with its property array (about 50 bytes less), and no `Sec-WebSocket-Key`.
 * {@link headersObject} rebuilds the object.
 */
export function keptNames(headers: IncomingHttpHeaders): readonly string[] {
  // Loops, not some()/filter() callbacks: this runs once per handshake, mostly cold, where
  // every call counts (ten callback calls per socket.io-client handshake).
  // `names` itself when no header is dropped; else a copy started at the first dropped one.
  const names = Object.keys(headers);
  let kept: string[] | undefined;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (DROPPED_NAMES.has(name)) kept ??= names.slice(0, i);
    else kept?.push(name);
  }
  return sharedNames(kept ?? names);
}

/**
 * The values of the headers `names` (see {@link keptNames}), with the values of the shared
 * headers replaced by the equal string kept from an earlier request.
 */
export function keptValues(headers: IncomingHttpHeaders, names: readonly string[]): HeaderValue[] {
  // Memory per idle session: an array allocated at its length, as map() would make it; one
  // grown by push() reserves room for 17 values (152 bytes).
  const kept = new Array<HeaderValue>(names.length);
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    kept[i] = SHARED_NAMES.has(name) ? sharedValue(headers[name]) : headers[name];
  }
  return kept;
}

/** The headers object of names and values kept by {@link keptNames} and {@link keptValues}. */
export function headersObject(
  names: readonly string[],
  kept: readonly HeaderValue[],
): IncomingHttpHeaders {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i < names.length; i++) headers[names[i]!] = kept[i];
  return headers;
}

function sharedValue(value: HeaderValue): HeaderValue {
  if (typeof value !== "string" || value.length > MAX_LENGTH) return value;
  const shared = values.get(value);
  if (shared !== undefined) return shared;
  if (values.size < MAX_VALUES) values.set(value, value);
  return value;
}

function isSameList(list: readonly string[], names: readonly string[]): boolean {
  if (list.length !== names.length) return false;
  for (let i = 0; i < list.length; i++) if (list[i] !== names[i]) return false;
  return true;
}

function sharedNames(names: string[]): readonly string[] {
  for (const list of nameLists) if (isSameList(list, names)) return list;
  if (nameLists.length === MAX_NAME_LISTS) nameLists.shift();
  const list = Object.freeze(names);
  nameLists.push(list);
  return list;
}

/**
 * The handshake URL `url`, as one shared string when it carries only the Engine.IO
 * parameters. Memory per idle session: each request's URL is a new string from the
 * parser (56 bytes for `/socket.io/?EIO=4&transport=websocket`), kept for `socket.request`
 * and `socket.handshake`. URLs with any other parameter (a token, the polling `t`, a `sid`)
 * are returned as they are and never kept.
 */
export function shareUrl(url: string): string {
  return knownUrl(url)?.url ?? url;
}

// Peer addresses seen lately, most often one: every client behind a proxy or a NAT, or on
// the same machine, comes from the same few. Replaced in turn once all are taken.
const RECENT_ADDRESSES = 8;
const addresses: string[] = new Array<string>(RECENT_ADDRESSES).fill("");
let nextAddress = 0;

/**
 * The peer address `address`, as the equal string kept from a recent session when there is
 * one. Memory per idle session: the address is a new string for every connection (32 bytes
 * for `127.0.0.1`), kept for `socket.handshake.address` and `socket.request`.
 */
export function shareAddress(address: string): string {
  // hot path: a few comparisons; two different strings mostly differ in length.
  for (let i = 0; i < RECENT_ADDRESSES; i++) {
    const recent = addresses[i]!;
    if (recent === address) return recent;
  }
  addresses[nextAddress] = address;
  nextAddress = (nextAddress + 1) % RECENT_ADDRESSES;
  return address;
}
