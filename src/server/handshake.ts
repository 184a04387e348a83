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

/** Builds a handshake from the Engine.IO request and the CONNECT packet's auth payload. */
export function buildHandshake(req: EngineRequest, address: string, auth: unknown): Handshake {
  const url = req.url;
  const query: Record<string, string> = {};
  const queryStart = url.indexOf("?");
  if (queryStart !== -1) {
    for (const [key, value] of new URLSearchParams(url.slice(queryStart + 1))) query[key] = value;
  }
  const now = new Date();
  return {
    headers: req.headers,
    time: now.toString(),
    address,
    xdomain: req.headers.origin !== undefined,
    secure: req.secure,
    issued: now.getTime(),
    url,
    query,
    auth: isPlainObject(auth) ? auth : {},
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
