/**
 * `socket.handshake`: what the client sent when it joined a namespace, captured once so
 * that the HTTP request object need not be retained.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { EngineRequest } from "../engine/index.js";

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

/**
 * A handshake that computes its derived fields on first read. Memory and time per
 * connection: `time` (a 60-character date string), `query` (an object of strings) and an
 * empty `auth` are only built for the sockets whose handshake someone reads. Serialised (`JSON.stringify`, the
 * cluster adapters' msgpack) through `toJSON()`, with every field.
 */
class SocketHandshake implements Handshake {
  readonly headers: IncomingHttpHeaders;
  readonly address: string;
  readonly secure: boolean;
  readonly issued: number;
  readonly url: string;
  // Created on first read when the client sent no auth object (most clients).
  #auth: Record<string, unknown> | undefined;
  #query: Record<string, string> | undefined;

  constructor(req: EngineRequest, address: string, auth: unknown) {
    this.headers = req.headers;
    this.address = address;
    this.secure = req.secure;
    this.issued = Date.now();
    this.url = req.url;
    this.#auth = isPlainObject(auth) ? auth : undefined;
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

/** Builds a handshake from the Engine.IO request and the CONNECT packet's auth payload. */
export function buildHandshake(req: EngineRequest, address: string, auth: unknown): Handshake {
  return new SocketHandshake(req, address, auth);
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
