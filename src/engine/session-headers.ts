/**
 * Shared header values for the handshake headers every session keeps (`socket.handshake`
 * and `socket.request` read them for the life of the connection).
 *
 * Memory per idle session: Node's HTTP parser makes a new string for every header value of
 * every request, yet most values repeat from one client to the next (`Upgrade`,
 * `websocket`, `13`, the offered extensions, the host, the user agent): about 180 bytes per
 * connection for a socket.io-client. A session keeps the values of the headers named here
 * as one shared string per distinct value; values that are unique per request (keys,
 * cookies, addresses) are never looked at.
 *
 * CPU per handshake: a request is read from its `rawHeaders` through the layout of its
 * client's kind ({@link headerLayout}), so that Node never builds `req.headers` for a
 * WebSocket handshake (5 % of a fresh server's instructions per handshake in
 * bench/profile/instructions.mjs). Requests without a layout are read from `req.headers`.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
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
 * How one kind of client lays out the headers of its handshake: the names it sends, in
 * order and in its own letter case, and what a session keeps of them. Requests of the same
 * layout are read straight from `rawHeaders` through it, so that Node's headers object,
 * built on first read of `req.headers`, is not built at all for a WebSocket handshake.
 */
export interface HeaderLayout {
  /** The header names as sent: every second entry of `rawHeaders`. */
  readonly sent: readonly string[];
  /** The names a session keeps, lower case, as {@link keptNames} gives them. */
  readonly names: readonly string[];
  /** For each kept name, the index of its value in `rawHeaders`. */
  readonly at: readonly number[];
  /** For each kept name, whether its value is one of the shared ones. */
  readonly shared: readonly boolean[];
  /** The index in `rawHeaders` of each header the WebSocket handshake reads; -1 if absent. */
  readonly upgrade: number;
  readonly key: number;
  readonly version: number;
  readonly protocol: number;
}

// Layouts seen lately: clients of one kind send the same headers in the same order.
const MAX_LAYOUTS = 8;
const layouts: HeaderLayout[] = [];
// Names a headers object does not hold as sent: Node makes `set-cookie` an array, and
// `__proto__` would not be an own property. Requests with them are read from Node's object.
const NOT_AS_SENT: ReadonlySet<string> = new Set(["set-cookie", "__proto__"]);
// Requests with more headers than this are read from Node's headers object.
const MAX_LAYOUT_HEADERS = 32;

/**
 * The layout of `rawHeaders` (an `IncomingMessage#rawHeaders`), or undefined when a name
 * appears twice (Node's rules for joining such headers then apply: read `req.headers`),
 * for `Set-Cookie` or `__proto__`, or for more than 32 headers.
 */
export function headerLayout(rawHeaders: readonly string[]): HeaderLayout | undefined {
  // hot path: once or twice per handshake, mostly against the first layout.
  for (let i = 0; i < layouts.length; i++) {
    const layout = layouts[i]!;
    if (isLaidOut(rawHeaders, layout.sent)) return layout;
  }
  const layout = newLayout(rawHeaders);
  if (layout === undefined) return undefined;
  if (layouts.length === MAX_LAYOUTS) layouts.shift();
  layouts.push(layout);
  return layout;
}

/** The headers a WebSocket handshake reads, as Node's headers object would give them. */
export interface UpgradeHeaders {
  readonly upgrade: string | undefined;
  readonly key: string | undefined;
  readonly version: string | undefined;
  readonly protocol: string | undefined;
}

/**
 * The headers of `req` that its WebSocket handshake reads: from `rawHeaders` through the
 * request's layout, so that Node does not build `req.headers` for it; from `req.headers`
 * for a request without a layout.
 */
export function upgradeHeaders(req: IncomingMessage): UpgradeHeaders {
  const raw = req.rawHeaders;
  const layout = headerLayout(raw);
  if (layout === undefined) {
    const headers = req.headers;
    return {
      upgrade: headers.upgrade,
      key: headers["sec-websocket-key"],
      version: headers["sec-websocket-version"],
      protocol: headers["sec-websocket-protocol"],
    };
  }
  return {
    upgrade: rawValue(raw, layout.upgrade),
    key: rawValue(raw, layout.key),
    version: rawValue(raw, layout.version),
    protocol: rawValue(raw, layout.protocol),
  };
}

function rawValue(rawHeaders: readonly string[], index: number): string | undefined {
  return index < 0 ? undefined : rawHeaders[index];
}

/**
 * The values a session keeps of a request laid out as `layout`, in the order of
 * `layout.names`, with the values of the shared headers replaced as {@link keptValues} does.
 */
export function laidOutValues(rawHeaders: readonly string[], layout: HeaderLayout): HeaderValue[] {
  const at = layout.at;
  const shared = layout.shared;
  const kept = new Array<HeaderValue>(at.length);
  for (let i = 0; i < at.length; i++) {
    const value = rawHeaders[at[i]!];
    kept[i] = shared[i] ? sharedValue(value) : value;
  }
  return kept;
}

function isLaidOut(rawHeaders: readonly string[], sent: readonly string[]): boolean {
  if (rawHeaders.length !== sent.length * 2) return false;
  for (let i = 0; i < sent.length; i++) if (rawHeaders[i * 2] !== sent[i]) return false;
  return true;
}

function newLayout(rawHeaders: readonly string[]): HeaderLayout | undefined {
  const count = rawHeaders.length / 2;
  if (count > MAX_LAYOUT_HEADERS) return undefined;
  const sent: string[] = [];
  const lower: string[] = [];
  const names: string[] = [];
  const at: number[] = [];
  const shared: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const name = rawHeaders[i * 2]!.toLowerCase();
    if (lower.includes(name) || NOT_AS_SENT.has(name)) return undefined;
    sent.push(rawHeaders[i * 2]!);
    lower.push(name);
    if (DROPPED_NAMES.has(name)) continue;
    names.push(name);
    at.push(i * 2 + 1);
    shared.push(SHARED_NAMES.has(name));
  }
  const valueIndex = (name: string): number => {
    const i = lower.indexOf(name);
    return i < 0 ? -1 : i * 2 + 1;
  };
  return Object.freeze({
    sent: Object.freeze(sent),
    names: sharedNames(names),
    at: Object.freeze(at),
    shared: Object.freeze(shared),
    upgrade: valueIndex("upgrade"),
    key: valueIndex("sec-websocket-key"),
    version: valueIndex("sec-websocket-version"),
    protocol: valueIndex("sec-websocket-protocol"),
  });
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
