/**
 * Request checks shared by HTTP requests and WebSocket upgrades (engine.io-protocol v4
 * §handshake and engine.io's `verify()`), returning the Engine.IO error code to answer with.
 *
 * Order of checks: transport known and enabled (0), `EIO=4` (5), then for a known `sid`:
 * session exists (1) and the request fits its transport (3); without a `sid`: GET only (2),
 * HTTP handshakes over polling and upgrades over websocket only (3). `allowRequest` (4) runs
 * last, in the server, because it is asynchronous.
 */
import type { IncomingMessage } from "node:http";
import { ok, type Result } from "../errors.js";
import type { EngineSocket } from "./engine-socket.js";
import { EngineErrorCode, type RequestRefusal } from "./errors.js";
import type { TransportName } from "./transports/transport.js";

/** The Engine.IO query parameters of a request. */
export interface EngineQuery {
  readonly EIO: string | undefined;
  readonly transport: string | undefined;
  readonly sid: string | undefined;
}

// Handshake URLs that carry only the Engine.IO parameters: the server's path with `EIO` and
// `transport` (every socket.io-client WebSocket handshake without a custom query), and the
// namespace a Switchboard client connects in its handshake (`sb_connect`).
const ENGINE_ONLY_URL = /^[^?#]*\?(?:(?:EIO|transport|sb_connect)=[A-Za-z0-9/_-]*(?:&|$))*$/;
const MAX_URL_LENGTH = 512;

/** An engine-only handshake URL (see {@link knownUrl}): one string, and its query parsed once. */
export interface KnownUrl {
  readonly url: string;
  readonly query: EngineQuery;
}

// The engine-only URLs seen first. Module-level, as the random-id pool: it holds only URLs
// every client sends, so sharing it between servers couples nothing.
const MAX_KNOWN_URLS = 16;
const knownUrls = new Map<string, KnownUrl>();

/**
 * The record of `url` when it carries only the Engine.IO parameters (no session id, token or
 * cache buster): the same few strings for every client of an application, each kept once,
 * up to 16. Undefined for any other URL, or once the table is full. It serves
 * {@link parseQuery} (cold handshakes: parsing every URL made V8 interpret, then compile,
 * the parser during a fresh server's first thousand handshakes, about 8 % of their
 * instructions in bench/profile/instructions.mjs) and `shareUrl` (one URL string for every
 * session, see session-headers.ts).
 */
export function knownUrl(url: string): KnownUrl | undefined {
  let known = knownUrls.get(url);
  if (
    known === undefined &&
    knownUrls.size < MAX_KNOWN_URLS &&
    url.length <= MAX_URL_LENGTH &&
    ENGINE_ONLY_URL.test(url)
  ) {
    known = Object.freeze({ url, query: Object.freeze(readQuery(url)) });
    knownUrls.set(url, known);
  }
  return known;
}

/** Extracts the Engine.IO parameters from a request URL; never throws. */
export function parseQuery(url: string | undefined): EngineQuery {
  if (url === undefined) return readQuery(url);
  return knownUrl(url)?.query ?? readQuery(url);
}

function readQuery(url: string | undefined): EngineQuery {
  const question = url?.indexOf("?") ?? -1;
  if (question === -1) return { EIO: undefined, transport: undefined, sid: undefined };
  const text = url!;
  // Percent-escapes and "+" need URLSearchParams' decoding; plain queries (every client
  // we know) are read in place, which costs a fraction of building a URLSearchParams.
  if (text.includes("%", question) || text.includes("+", question)) {
    const params = new URLSearchParams(text.slice(question + 1));
    return {
      EIO: params.get("EIO") ?? undefined,
      transport: params.get("transport") ?? undefined,
      sid: params.get("sid") || undefined,
    };
  }
  // hot path: one pass over "k=v&k=v" without slicing keys; the first occurrence of a key
  // wins, as with get(). `equals` is the next "=" at or after `start` (or -1), so that the
  // whole query is scanned once however many parameters it has.
  let EIO: string | undefined;
  let transport: string | undefined;
  let sid: string | undefined;
  let equals = text.indexOf("=", question + 1);
  for (let start = question + 1; start <= text.length; ) {
    let end = text.indexOf("&", start);
    if (end === -1) end = text.length;
    if (equals !== -1 && equals < start) equals = text.indexOf("=", start);
    const keyEnd = equals === -1 || equals > end ? end : equals;
    const valueStart = keyEnd === end ? end : keyEnd + 1;
    const keyLength = keyEnd - start;
    if (keyLength === 3 && EIO === undefined && text.startsWith("EIO", start)) {
      EIO = text.slice(valueStart, end);
    } else if (keyLength === 9 && transport === undefined && text.startsWith("transport", start)) {
      transport = transportName(text, valueStart, end);
    } else if (keyLength === 3 && sid === undefined && text.startsWith("sid", start)) {
      sid = text.slice(valueStart, end);
    }
    start = end + 1;
  }
  return { EIO, transport, sid: sid || undefined };
}

/** The transport name between `start` and `end`: the known names without a new string. */
function transportName(text: string, start: number, end: number): string {
  const length = end - start;
  if (length === 9 && text.startsWith("websocket", start)) return "websocket";
  if (length === 7 && text.startsWith("polling", start)) return "polling";
  return text.slice(start, end);
}

/** Removes the trailing slash of a path option: `"/socket.io/"` becomes `"/socket.io"`. */
export function normalizePath(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

/** Whether the request URL's pathname is `path`, with or without a trailing slash. */
export function matchesPath(url: string | undefined, path: string): boolean {
  // hot path (every request and upgrade): compared in place, no pathname sliced out.
  if (url === undefined || !url.startsWith(path)) return false;
  let end = path.length;
  if (url.charCodeAt(end) === SLASH) end++;
  return end === url.length || url.charCodeAt(end) === QUESTION_MARK;
}

const SLASH = 0x2f;
const QUESTION_MARK = 0x3f;

/** What {@link checkRequest} needs to know about the server. */
export interface CheckContext {
  readonly transports: readonly TransportName[];
  readonly allowUpgrades: boolean;
  readonly clients: ReadonlyMap<string, EngineSocket>;
}

// A handshake's verdict: the same (immutable) result every time.
const NEW_SESSION: Result<EngineSocket | undefined, RequestRefusal> = Object.freeze(ok(undefined));

function refuse(
  code: RequestRefusal["code"],
  context: Record<string, unknown>,
): { ok: false; error: RequestRefusal } {
  return { ok: false, error: { code, context } };
}

/**
 * Checks a request before any session work: on success, the existing session it belongs
 * to (or `undefined` for a handshake); otherwise the code to refuse it with.
 */
export function checkRequest(
  req: IncomingMessage,
  query: EngineQuery,
  isUpgrade: boolean,
  context: CheckContext,
): Result<EngineSocket | undefined, RequestRefusal> {
  const transport = query.transport;
  if (transport === undefined || !context.transports.includes(transport as TransportName)) {
    return refuse(EngineErrorCode.UNKNOWN_TRANSPORT, { transport });
  }
  if (query.EIO !== "4") {
    // Engine.IO v3 (Socket.IO v2 clients) is not supported.
    return refuse(EngineErrorCode.UNSUPPORTED_PROTOCOL_VERSION, { protocol: query.EIO });
  }
  const expected = isUpgrade ? "websocket" : "polling";
  if (query.sid === undefined) {
    if (req.method !== "GET") {
      return refuse(EngineErrorCode.BAD_HANDSHAKE_METHOD, { method: req.method });
    }
    if (transport !== expected) {
      return refuse(EngineErrorCode.BAD_REQUEST, { name: "TRANSPORT_HANDSHAKE_ERROR" });
    }
    return NEW_SESSION;
  }
  const session = context.clients.get(query.sid);
  if (session === undefined) return refuse(EngineErrorCode.UNKNOWN_SID, { sid: query.sid });
  if (isUpgrade) return checkUpgrade(session, transport, context);
  return checkPoll(req, session, transport);
}

function checkPoll(
  req: IncomingMessage,
  session: EngineSocket,
  transport: string,
): Result<EngineSocket | undefined, RequestRefusal> {
  if (req.method !== "GET" && req.method !== "POST") {
    return refuse(EngineErrorCode.BAD_REQUEST, { name: "BAD_METHOD", method: req.method });
  }
  if (transport !== "polling" || session.transport.name !== "polling") {
    return refuse(EngineErrorCode.BAD_REQUEST, {
      name: "TRANSPORT_MISMATCH",
      transport,
      previousTransport: session.transport.name,
    });
  }
  return ok(session);
}

function checkUpgrade(
  session: EngineSocket,
  transport: string,
  context: CheckContext,
): Result<EngineSocket | undefined, RequestRefusal> {
  if (transport !== "websocket" || session.transport.name !== "polling") {
    return refuse(EngineErrorCode.BAD_REQUEST, {
      name: "TRANSPORT_MISMATCH",
      transport,
      previousTransport: session.transport.name,
    });
  }
  if (!context.allowUpgrades || session.upgrading || session.readyState !== "open") {
    return refuse(EngineErrorCode.BAD_REQUEST, { name: "UPGRADE_REFUSED" });
  }
  return ok(session);
}
