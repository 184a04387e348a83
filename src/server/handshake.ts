/**
 * `socket.handshake`: what the client sent when it joined a namespace, captured once so
 * that the HTTP request object need not be retained.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import type { EngineRequest, EngineServerOptions } from "../engine/index.js";
import { HANDSHAKE_CONNECT } from "../protocol/socket-packet.js";

/** The details of a socket's handshake, as in Socket.IO. */
export interface Handshake {
  /** Request headers of the Engine.IO handshake. */
  readonly headers: IncomingHttpHeaders;
  /** When the socket joined the namespace, as `Date#toString()`. */
  readonly time: string;
  /** The client's IP address. */
  readonly address: string;
  /** Whether the request was cross-origin (an `Origin` header was present). */
  readonly xdomain: boolean;
  /** Whether the connection uses TLS. */
  readonly secure: boolean;
  /** When the socket joined the namespace, in ms since the epoch. */
  readonly issued: number;
  /** The handshake request URL. */
  readonly url: string;
  /** The query parameters of the handshake request. */
  readonly query: Record<string, string>;
  /** The `auth` payload the client sent with its CONNECT packet. */
  readonly auth: Record<string, unknown>;
}

// `issued` is kept as ms since this instant: a small integer (no 16-byte heap number per
// socket) for the process's first 24 days, a number as before after that.
const TIME_BASE = Date.now();
const MAX_INT32 = 0x7fffffff;

/**
 * A handshake that reads what the engine session kept of its request and computes its
 * derived fields on first read. Memory and time per connection: nothing of the request is
 * copied, and `time` (a 60-character date string), `query` (an object of strings) and an
 * empty `auth` are only built for the sockets whose handshake someone reads. Serialised
 * (`JSON.stringify`, the cluster adapters' msgpack) through `toJSON()`, with every field.
 */
class SocketHandshake implements Handshake {
  readonly #request: EngineRequest;
  readonly #issued: number;
  // Created on first read when the client sent no auth object (most clients).
  #auth: Record<string, unknown> | undefined;
  #query: Record<string, string> | undefined;

  constructor(req: EngineRequest, auth: Record<string, unknown> | undefined, joined: number) {
    this.#request = req;
    this.#issued = joined;
    this.#auth = auth;
  }

  get headers(): IncomingHttpHeaders {
    return this.#request.headers;
  }

  get address(): string {
    return this.#request.remoteAddress;
  }

  get secure(): boolean {
    return this.#request.secure;
  }

  get issued(): number {
    return TIME_BASE + this.#issued;
  }

  get url(): string {
    return this.#request.url;
  }

  get auth(): Record<string, unknown> {
    this.#auth ??= {};
    return this.#auth;
  }

  get time(): string {
    return new Date(this.issued).toString();
  }

  get xdomain(): boolean {
    return this.headers.origin !== undefined;
  }

  get query(): Record<string, string> {
    this.#query ??= parseUrlQuery(this.url);
    return this.#query;
  }

  /** Every field, as a plain object. */
  toJSON(): Handshake {
    const { headers, time, address, xdomain, secure, issued, url, query, auth } = this;
    return { headers, time, address, xdomain, secure, issued, url, query, auth };
  }
}

/**
 * Builds a handshake from what the Engine.IO session kept of its request (its URL, headers,
 * peer address), the CONNECT packet's auth payload, and when the socket joined (see
 * {@link joinedNow}; now by default).
 */
export function buildHandshake(req: EngineRequest, auth: unknown, joined = joinedNow()): Handshake {
  return new SocketHandshake(req, isPlainObject(auth) ? auth : undefined, joined);
}

/**
 * A handshake, or what a socket keeps until it is read: when the socket joined (see
 * {@link joinedNow}), if the client sent no auth object. Memory per idle connection: most
 * clients send none and most apps never read the handshake of most sockets, so those sockets
 * keep one small integer instead of a handshake object (56 bytes).
 */
export function handshakeOrTime(req: EngineRequest, auth: unknown): Handshake | number {
  return isPlainObject(auth) ? buildHandshake(req, auth) : joinedNow();
}

/**
 * Now, as a handshake keeps it: ms since this module loaded, a small integer for V8 (no
 * 16-byte heap number per socket) for the process's first 24 days, a number after that.
 */
export function joinedNow(): number {
  const issued = Date.now() - TIME_BASE;
  // `| 0` keeps the field an integer one for V8 (a double field boxes every value).
  return issued <= MAX_INT32 ? issued | 0 : issued;
}

function parseUrlQuery(url: string): Record<string, string> {
  const query: Record<string, string> = {};
  const queryStart = url.indexOf("?");
  if (queryStart !== -1) {
    for (const [key, value] of new URLSearchParams(url.slice(queryStart + 1))) query[key] = value;
  }
  return query;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

const CONNECT_PARAM = `${HANDSHAKE_CONNECT}=`;

/**
 * The namespace a client joins in its handshake, named by the `sb_connect` parameter of the
 * handshake URL (see {@link HANDSHAKE_CONNECT}), or undefined: no such parameter, or a value
 * that is not a namespace name (which starts with "/").
 * hot path: once per handshake; without the parameter, one scan of the URL.
 */
export function handshakeNamespace(url: string): string | undefined {
  // Called twice per handshake with the same URL, and most URLs are alike.
  if (url === lastUrl) return lastUrlName;
  const name = readNamespace(url);
  lastUrl = url;
  lastUrlName = name;
  return name;
}

let lastUrl: string | undefined;
let lastUrlName: string | undefined;

function readNamespace(url: string): string | undefined {
  const question = url.indexOf("?");
  if (question === -1) return undefined;
  let at = url.indexOf(CONNECT_PARAM, question);
  // Only a whole parameter name counts ("xsb_connect=" does not).
  while (at !== -1 && url.charCodeAt(at - 1) !== QUESTION && url.charCodeAt(at - 1) !== AMP) {
    at = url.indexOf(CONNECT_PARAM, at + 1);
  }
  if (at === -1) return undefined;
  const start = at + CONNECT_PARAM.length;
  const amp = url.indexOf("&", start);
  let name = url.slice(start, amp === -1 ? url.length : amp);
  if (name.includes("%") || name.includes("+")) {
    try {
      name = decodeURIComponent(name.replaceAll("+", " "));
    } catch {
      return undefined;
    }
  }
  return name.charCodeAt(0) === SLASH ? name : undefined;
}

/**
 * The extra open packet fields of a handshake: the application's `openPacketFields`, and
 * `sb_connect` confirming the namespace its URL names (joined right after the open packet).
 * The confirmation is sent even when the application's function throws (its error goes to
 * `log`): the server joins that namespace whatever the function does, and a client without
 * it would send a second CONNECT.
 */
export function openPacketFields(
  req: IncomingMessage,
  own: EngineServerOptions["openPacketFields"],
  log: (message: string) => void,
): Record<string, unknown> | undefined {
  let fields: Record<string, unknown> | undefined;
  try {
    fields = own?.(req);
  } catch (err) {
    log(`openPacketFields threw: ${String(err)}`);
  }
  const name = handshakeNamespace(req.url ?? "");
  if (name === undefined) return fields;
  if (fields !== undefined) return { ...fields, [HANDSHAKE_CONNECT]: name };
  // Without the application's fields, one shared object per name (the engine keeps the
  // JSON of the last one it wrote; see openPacketData).
  if (name !== lastConnectName) {
    lastConnectName = name;
    lastConnectFields = Object.freeze({ [HANDSHAKE_CONNECT]: name });
  }
  return lastConnectFields;
}

let lastConnectName: string | undefined;
let lastConnectFields: Readonly<Record<string, unknown>> = {};

const QUESTION = 0x3f;
const AMP = 0x26;
const SLASH = 0x2f;
