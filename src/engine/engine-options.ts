/**
 * Options of {@link EngineServer}, named as engine.io names them, and their defaults.
 */
import type { IncomingMessage } from "node:http";
import type { PerMessageDeflateOptions } from "ws";
import { type CookieOptions, type ResolvedCookieOptions, resolveCookieOptions } from "./cookie.js";
import type { CorsOptions } from "./cors.js";
import { normalizePath } from "./handshake.js";
import { randomId } from "./random-id.js";
import type { TransportName } from "./transports/transport.js";

/** Decides whether a handshake may proceed: `callback(null, true)` accepts it. */
export type AllowRequest = (
  req: IncomingMessage,
  callback: (err: string | null | undefined, success: boolean) => void,
) => void;

/** Options of {@link EngineServer}. Every one is optional. */
export interface EngineServerOptions {
  /** Path to capture, with or without trailing slash. Default `"/engine.io"`. */
  path?: string;
  /** Milliseconds between pings. Default 25000. */
  pingInterval?: number;
  /** Milliseconds to wait for a pong before closing with `"ping timeout"`. Default 20000. */
  pingTimeout?: number;
  /** Milliseconds an upgrade attempt may take before it is dropped. Default 10000. */
  upgradeTimeout?: number;
  /**
   * Largest POST body or WebSocket message, in bytes. Default 1e6. A larger POST gets 413,
   * a larger WebSocket message a 1009 close; both close the session (`"transport error"`).
   */
  maxHttpBufferSize?: number;
  /** Enabled transports. Default `["polling", "websocket"]`. */
  transports?: readonly TransportName[];
  /** Whether polling sessions may upgrade to WebSocket. Default true. */
  allowUpgrades?: boolean;
  /** Accepts or refuses each handshake (HTTP 403, code 4 "Forbidden" when refused). */
  allowRequest?: AllowRequest;
  /** CORS for polling requests; none by default. */
  cors?: CorsOptions;
  /** Set an `io=<sid>` cookie on the handshake. Default false. */
  cookie?: boolean | CookieOptions;
  /** permessage-deflate for WebSocket, passed to `ws`. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /**
   * Which WebSocket server reads the clients' frames: `"builtin"` (default), the engine's
   * own RFC 6455 implementation, or `"ws"`, the `ws` package. Same wire behaviour (close
   * statuses, size limit, subprotocol echo, refusals); the builtin one keeps about 1.3 KB
   * less heap per idle connection and does less work per message and per handshake. With
   * `perMessageDeflate` on, `ws` serves every connection whatever this says (the builtin
   * one does not compress). The builtin one also refuses (1009) a message in more than
   * max(1024, maxHttpBufferSize / 64) fragments: tiny fragments cost memory out of
   * proportion to their bytes. engine.io's `wsEngine` takes a server class instead; here it
   * is one of these two names. Switchboard addition.
   */
  wsEngine?: "ws" | "builtin";
  /** gzip/deflate polling responses of at least `threshold` bytes. Default `{ threshold: 1024 }`. */
  httpCompression?: boolean | { threshold?: number };
  /** Creates session ids. Default: 15 random bytes in base64url (20 characters). */
  generateId?: (req: IncomingMessage) => string;
  /**
   * Most packets accepted in one POST payload; more is a parse error. Default 10000: high
   * enough for a client flushing a long offline buffer in one POST, low enough to bound the
   * objects one request can make us allocate. Switchboard addition, not in engine.io.
   */
  maxPacketsPerPayload?: number;
  /**
   * Most bytes a session may hold back for a client that does not read fast enough: packets
   * waiting for a poll, plus (WebSocket) bytes queued in the transport and its socket but not
   * yet taken by the OS. Past it, volatile packets are dropped, then the session closes with
   * `"slow consumer"`. Default 4 MiB: four times the largest message a client may send
   * (`maxHttpBufferSize`), several seconds of a slow mobile link, yet bounded; lower it when
   * many clients may lag at once (10,000 lagging sessions may hold 40 GiB at the default).
   * Switchboard addition, not in engine.io.
   */
  maxBufferedBytes?: number;
  /**
   * Most packets a session may hold waiting for the transport (polling: until the next GET;
   * any transport during an upgrade). Past it, as for `maxBufferedBytes`. Default 10000, as
   * `maxPacketsPerPayload`: a poll never answers with more than a client may send in one.
   * Switchboard addition, not in engine.io.
   */
  maxBufferedPackets?: number;
  /**
   * Most open sessions; past it, new handshakes are refused (HTTP 403, code 4 "Forbidden",
   * `connection_error` context `{ name: "TOO_MANY_CONNECTIONS" }`) and clients retry with
   * their backoff. Default: no limit but the process's file descriptors. Switchboard
   * addition, not in engine.io.
   */
  maxConnections?: number;
  /**
   * Most messages a client may send per `interval` ms (default 1000), counted per session
   * in fixed windows. Past it, `onExceeded: "close"` (the default) closes the session with
   * `"rate limit exceeded"` (counted in `engine.metrics.rateLimitDisconnects`); `"drop"`
   * drops the extra messages (counted in `engine.metrics.droppedRateLimitedMessages`).
   * Default `{ messages: 10000, interval: 1000 }`: far above any interactive client, yet one
   * client cannot make the server parse an unbounded stream. `false` turns it off.
   * Switchboard addition, not in engine.io.
   */
  rateLimit?: false | RateLimitOptions;
  /**
   * More fields for the open packet of a handshake, given its request: an object whose
   * members follow the standard ones (`sid`, `upgrades`, `pingInterval`, `pingTimeout`,
   * `maxPayload`, which it must not repeat), or undefined for none. The Socket.IO server uses
   * it to tell a client that it connected the namespace named in the handshake URL.
   * Switchboard addition, not in engine.io.
   */
  openPacketFields?: (req: IncomingMessage) => Record<string, unknown> | undefined;
}

/** The per-session message rate limit (see {@link EngineServerOptions.rateLimit}). */
export interface RateLimitOptions {
  /** Most messages per interval. */
  readonly messages: number;
  /** The interval, in ms. Default 1000. */
  readonly interval?: number;
  /** What happens to a client over the limit. Default `"close"`. */
  readonly onExceeded?: "close" | "drop";
}

/** {@link EngineServerOptions} with every default applied. */
export interface ResolvedEngineServerOptions {
  readonly path: string;
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly upgradeTimeout: number;
  readonly maxHttpBufferSize: number;
  readonly transports: readonly TransportName[];
  readonly allowUpgrades: boolean;
  readonly allowRequest: AllowRequest | undefined;
  readonly cors: CorsOptions | undefined;
  readonly cookie: ResolvedCookieOptions | false;
  readonly perMessageDeflate: false | PerMessageDeflateOptions;
  readonly wsEngine: "ws" | "builtin";
  readonly httpCompression: false | { readonly threshold: number };
  readonly generateId: (req: IncomingMessage) => string;
  readonly maxPacketsPerPayload: number;
  readonly maxBufferedBytes: number;
  readonly maxBufferedPackets: number;
  readonly maxConnections: number;
  readonly rateLimit: false | Required<RateLimitOptions>;
  readonly openPacketFields: EngineServerOptions["openPacketFields"];
}

function defaultGenerateId(): string {
  return randomId();
}

function resolveRateLimit(
  option: EngineServerOptions["rateLimit"],
): ResolvedEngineServerOptions["rateLimit"] {
  if (option === false) return false;
  const messages = option?.messages ?? 10_000;
  const interval = option?.interval ?? 1000;
  if (!(messages >= 1 && interval >= 1)) {
    throw new RangeError("rateLimit needs messages >= 1 and interval >= 1 ms");
  }
  return { messages, interval, onExceeded: option?.onExceeded ?? "close" };
}

function resolveCompression(
  option: EngineServerOptions["httpCompression"],
): ResolvedEngineServerOptions["httpCompression"] {
  if (option === false) return false;
  if (option === undefined || option === true) return { threshold: 1024 };
  return { threshold: option.threshold ?? 1024 };
}

function resolveDeflate(
  option: EngineServerOptions["perMessageDeflate"],
): ResolvedEngineServerOptions["perMessageDeflate"] {
  if (option === undefined || option === false) return false;
  // engine.io's default threshold: small frames are not worth compressing.
  return { threshold: 1024, ...(option === true ? {} : option) };
}

/** Applies defaults and rejects impossible settings (programmer errors throw). */
export function resolveOptions(options: EngineServerOptions = {}): ResolvedEngineServerOptions {
  const transports = options.transports ?? ["polling", "websocket"];
  for (const name of transports) {
    if (name !== "polling" && name !== "websocket") {
      throw new TypeError(`unknown transport "${String(name)}"`);
    }
  }
  if (transports.length === 0) throw new TypeError("at least one transport must be enabled");
  const wsEngine = options.wsEngine ?? "builtin";
  if (wsEngine !== "ws" && wsEngine !== "builtin") {
    const given = typeof wsEngine === "string" ? JSON.stringify(wsEngine) : `a ${typeof wsEngine}`;
    throw new TypeError(`wsEngine must be "ws" or "builtin", not ${given}`);
  }
  return Object.freeze({
    path: normalizePath(options.path ?? "/engine.io"),
    pingInterval: options.pingInterval ?? 25_000,
    pingTimeout: options.pingTimeout ?? 20_000,
    upgradeTimeout: options.upgradeTimeout ?? 10_000,
    maxHttpBufferSize: options.maxHttpBufferSize ?? 1e6,
    transports: Object.freeze([...transports]),
    allowUpgrades: options.allowUpgrades ?? true,
    allowRequest: options.allowRequest,
    cors: options.cors,
    cookie: resolveCookieOptions(options.cookie),
    perMessageDeflate: resolveDeflate(options.perMessageDeflate),
    wsEngine,
    httpCompression: resolveCompression(options.httpCompression),
    generateId: options.generateId ?? defaultGenerateId,
    maxPacketsPerPayload: options.maxPacketsPerPayload ?? 10_000,
    maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
    maxBufferedPackets: options.maxBufferedPackets ?? 10_000,
    maxConnections: options.maxConnections ?? Number.POSITIVE_INFINITY,
    rateLimit: resolveRateLimit(options.rateLimit),
    openPacketFields: options.openPacketFields,
  });
}
