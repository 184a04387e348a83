/**
 * The Engine.IO v4 server (engine.io's `Server`): routes HTTP requests and WebSocket
 * upgrades to sessions, runs handshakes and owns the shared heartbeat timers.
 *
 * ```
 *  HTTP request ─► CORS ─► checkRequest ─► allowRequest ─► handshake (new PollingTransport)
 *                                                     └──► session's PollingTransport
 *  upgrade ──────────────► checkRequest ─► allowRequest ─► ws.handleUpgrade ─► handshake
 *                                                     └──► session.upgradeTo(WebSocket)
 * ```
 */
import { EventEmitter } from "node:events";
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import type { WebSocket, Server as WsServer } from "ws";
import type { Result } from "../errors.js";
import { serializeCookie } from "./cookie.js";
import { handleCors } from "./cors.js";
import { createDebug } from "./debug.js";
import {
  type EngineServerOptions,
  type ResolvedEngineServerOptions,
  resolveOptions,
} from "./engine-options.js";
import { EngineRequest } from "./engine-request.js";
import { EngineSocket } from "./engine-socket.js";
import {
  abortUpgrade,
  type EngineConnectionError,
  EngineErrorCode,
  EngineErrorMessage,
  type RequestRefusal,
  writeHttpError,
} from "./errors.js";
import {
  type ForwardedPoll,
  type ForwardedPollReply,
  ForwardedRequest,
  ForwardedResponse,
  forwardPoll,
  type SessionRouter,
} from "./forwarded-poll.js";
import {
  type CheckContext,
  checkRequest,
  type EngineQuery,
  matchesPath,
  parseQuery,
} from "./handshake.js";
import { Heartbeat } from "./heartbeat.js";
import { type EngineMetrics, SessionContext } from "./session-context.js";
import { PollingTransport } from "./transports/polling.js";
import {
  checkUpgrade,
  RawWebSocket,
  refuseUpgrade,
  upgradeResponse,
} from "./transports/raw-websocket.js";
import type { Transport, TransportName } from "./transports/transport.js";
import {
  type EngineWebSocket,
  type EngineWebSocketClass,
  engineWebSocketClass,
  loadWs,
  WebSocketTransport,
} from "./transports/websocket.js";

const debug = createDebug("switchboard:engine");

/** Events of an {@link EngineServer}. */
export interface EngineServerEvents {
  /** A new session completed its handshake. */
  connection: [socket: EngineSocket];
  /** A request was refused with an Engine.IO error code. */
  connection_error: [error: EngineConnectionError];
}

/** How long an upgrade nobody handles may stay open before it is destroyed (engine.io). */
const DESTROY_UPGRADE_DELAY = 1000;

/** How long a graceful polling close waits for the client's next GET (engine.io). */
const POLLING_CLOSE_TIMEOUT = 30_000;

type Verdict = (refusal: RequestRefusal | null, session: EngineSocket | undefined) => void;

/**
 * A standalone Engine.IO v4 server, like the `engine.io` package.
 *
 * @example
 * const engine = new EngineServer({ pingInterval: 10_000 }).attach(httpServer);
 * engine.on("connection", (socket) => socket.send("hello"));
 */
export class EngineServer extends EventEmitter<EngineServerEvents> {
  /** The options in use, with defaults applied. */
  readonly options: ResolvedEngineServerOptions;
  readonly #clients = new Map<string, EngineSocket>();
  readonly #context: SessionContext;
  /** ws's server, made on first use (see #wssOf); none while every upgrade is builtin. */
  #wss: WsServer<EngineWebSocketClass> | null = null;
  /** Whether the WebSocket transport is enabled. */
  readonly #hasWebSocket: boolean;
  /** Session ids chosen for WebSocket handshakes in flight, for the cookie header. */
  readonly #pendingIds = new WeakMap<IncomingMessage, string>();
  #router: SessionRouter | undefined;
  #isClosed = false;
  /** What checkRequest reads of this server: one object for every request. */
  readonly #checkContext: CheckContext;

  /** Creates a server; it handles nothing until `attach()` or `handleRequest()` is used. */
  constructor(options?: EngineServerOptions) {
    super();
    const resolved = resolveOptions(options);
    this.options = resolved;
    const settings = {
      pingInterval: resolved.pingInterval,
      pingTimeout: resolved.pingTimeout,
      maxPayload: resolved.maxHttpBufferSize,
      upgradeTimeout: resolved.upgradeTimeout,
      maxBufferedBytes: resolved.maxBufferedBytes,
      maxBufferedPackets: resolved.maxBufferedPackets,
      rateMessages: resolved.rateLimit === false ? 0 : resolved.rateLimit.messages,
      rateInterval: resolved.rateLimit === false ? 1000 : resolved.rateLimit.interval,
      rateDrops: resolved.rateLimit !== false && resolved.rateLimit.onExceeded === "drop",
    };
    const heartbeat = new Heartbeat(resolved.pingInterval, resolved.pingTimeout);
    this.#context = new SessionContext(settings, heartbeat, (socket) => {
      this.#clients.delete(socket.id);
    });
    this.#hasWebSocket = resolved.transports.includes("websocket");
    this.#checkContext = {
      transports: resolved.transports,
      allowUpgrades: resolved.allowUpgrades,
      clients: this.#clients,
    };
  }

  /**
   * Counters since the server started: `slowConsumerDisconnects` (sessions closed with
   * `"slow consumer"`) and `droppedVolatilePackets` (volatile packets dropped because their
   * session's buffer was over its bound).
   */
  get metrics(): Readonly<EngineMetrics> {
    return this.#context.metrics;
  }

  /** Open sessions by id. */
  get clients(): ReadonlyMap<string, EngineSocket> {
    return this.#clients;
  }

  /** The number of open sessions. */
  get clientsCount(): number {
    return this.#clients.size;
  }

  /**
   * Captures `request` and `upgrade` events for `options.path` on an HTTP(S) server. Other
   * requests still reach the listeners registered before; other upgrades are left alone and,
   * when nobody else listens for upgrades, destroyed after a second as engine.io does.
   */
  attach(server: HttpServer | HttpsServer): this {
    const path = this.options.path;
    const previous = server.listeners("request").slice() as ((...args: unknown[]) => void)[];
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      if (matchesPath(req.url, path)) this.handleRequest(req, res);
      else for (const listener of previous) listener.call(server, req, res);
    });
    if (this.#hasWebSocket) {
      server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (matchesPath(req.url, path)) this.handleUpgrade(req, socket, head);
        else if (server.listenerCount("upgrade") <= 1) destroyUnhandledUpgrade(socket);
      });
    }
    server.once("close", () => void this.close());
    return this;
  }

  /** Handles one Engine.IO HTTP request (handshake, poll or POST). */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    debug("%s %s", req.method, req.url);
    const query = parseQuery(req.url);
    const proceed = (): void => {
      if (this.#isForwardable(query)) {
        forwardPoll(req, res, query.sid, this.#router!, this.options.maxHttpBufferSize);
        return;
      }
      this.#verify(req, query, false, (refusal, session) => {
        if (refusal !== null) this.#refuse(req, refusal, () => writeHttpError(res, refusal.code));
        else if (session === undefined) this.#handshakePolling(req, res);
        else if (session.transport instanceof PollingTransport) {
          session.transport.onRequest(req, res);
        }
      });
    };
    const cors = this.options.cors;
    if (cors === undefined) proceed();
    else handleCors(req, res, cors, (isAnswered) => isAnswered || proceed());
  }

  /** Handles one HTTP upgrade: a WebSocket handshake or a polling session's upgrade. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    debug("upgrade %s", req.url);
    const checked = this.#check(req, parseQuery(req.url), true);
    if (!checked.ok || !this.#hasWebSocket) {
      const reason = checked.ok
        ? { code: EngineErrorCode.UNKNOWN_TRANSPORT, context: {} }
        : checked.error;
      this.#refuseUpgrade(req, socket, reason);
      return;
    }
    const session = checked.value;
    if (session !== undefined) {
      this.#upgradeWebSocket(req, socket, head, session, undefined);
      return;
    }
    // hot path: without allowRequest a handshake is answered within this call, with no
    // callback to allocate, and ws puts its own error listener on the socket at once.
    if (this.options.allowRequest === undefined) {
      this.#openWebSocket(req, socket, head, this.#limit());
      return;
    }
    // Node removed its own error listener from this socket when it emitted "upgrade"; a
    // reset during an asynchronous allowRequest would otherwise be an uncaught error. A
    // module-level function: a closure here would keep this call's scope (the request and
    // its head buffer) alive as long as the connection.
    socket.on("error", onUpgradeSocketError);
    this.#allow(req, (refusal) => this.#openWebSocket(req, socket, head, refusal));
  }

  /**
   * Routes polling requests for sessions this server does not hold to the node that does
   * (no sticky sessions needed); `undefined` turns that off. The Socket.IO server sets it
   * when its adapter spans several nodes.
   */
  setSessionRouter(router: SessionRouter | undefined): void {
    this.#router = router;
  }

  /**
   * Serves a polling request that another node received for a session of this server, and
   * resolves with the reply to write to the client: the session's polling transport handles
   * it as any GET or POST. `signal` aborts when the client went away before the reply (the
   * session then ends as after a closed GET). Unknown session: engine.io's 400 "Session ID
   * unknown".
   */
  handleForwardedPoll(
    sid: string,
    poll: ForwardedPoll,
    signal?: AbortSignal,
  ): Promise<ForwardedPollReply> {
    const res = new ForwardedResponse(signal);
    const transport = this.#clients.get(sid)?.transport;
    if (this.#isClosed || transport === undefined) {
      writeHttpError(res, EngineErrorCode.UNKNOWN_SID);
    } else if (transport instanceof PollingTransport) {
      debug("forwarded %s for %s", poll.method, sid);
      transport.onRequest(new ForwardedRequest(poll), res);
    } else {
      writeHttpError(res, EngineErrorCode.BAD_REQUEST); // upgraded: as a direct late poll
    }
    return res.reply;
  }

  /**
   * Opens a session over a WebSocket on a path of the caller's (the Socket.IO server's
   * bare-WebSocket mode): `allowRequest` applies as to a handshake, the session gets an id
   * and a `"connection"` event like any other, over the transport `makeTransport` builds
   * around the WebSocket, and `onOpen` runs right after that event. No Engine.IO query is
   * expected; refusals answer with the usual HTTP error.
   */
  handleWebSocketSession(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    makeTransport: (ws: WebSocket) => Transport,
    onOpen?: (session: EngineSocket) => void,
  ): void {
    socket.on("error", onUpgradeSocketError);
    if (this.#isClosed) {
      this.#refuseUpgrade(req, socket, SERVER_CLOSED);
      return;
    }
    this.#allow(req, (refusal) => {
      const id = this.#newSessionId(req, socket, refusal);
      if (id === null) return;
      this.#wssOf().handleUpgrade(req, socket, head, (ws) => {
        socket.removeListener("error", onUpgradeSocketError);
        this.#pendingIds.delete(req);
        if (this.#isClosed || this.#clients.has(id)) {
          ws.terminate();
          return;
        }
        const session = this.#register(id, req, makeTransport(ws));
        this.emit("connection", session);
        onOpen?.(session);
      });
    });
  }

  /**
   * Closes every session (reason `"server shutting down"`, with a close packet where the
   * transport can still write) and stops accepting requests. The HTTP server stays open.
   */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const socket of [...this.#clients.values()]) socket.shutdown();
    this.#context.heartbeat.clear();
    const wss = this.#wss;
    if (wss !== null) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  /** ws's server for this engine, made (and `ws` loaded) on the first call. */
  #wssOf(): WsServer<EngineWebSocketClass> {
    this.#wss ??= this.#createWss();
    return this.#wss;
  }

  #createWss(): WsServer<EngineWebSocketClass> {
    const wss = new (loadWs().WebSocketServer)<EngineWebSocketClass>({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: this.options.perMessageDeflate,
      maxPayload: this.options.maxHttpBufferSize,
      WebSocket: engineWebSocketClass(),
    });
    wss.on("headers", (headers, req) => {
      const id = this.#pendingIds.get(req);
      const cookie = this.options.cookie;
      if (id !== undefined && cookie !== false) {
        headers.push(`Set-Cookie: ${serializeCookie(id, cookie)}`);
      }
    });
    // ws reports a refused handshake here and, as this listener exists, leaves the answer to
    // it: the same HTTP error the builtin engine gives (400, or 405 for a method).
    wss.on("wsClientError", (err, socket, req) => {
      debug("websocket handshake failed: %s", err.message);
      const check = checkUpgrade(req);
      refuseUpgrade(
        socket,
        check.ok ? { ok: false, status: 400, message: err.message, headers: "" } : check,
      );
    });
    return wss;
  }

  #verify(req: IncomingMessage, query: EngineQuery, isUpgrade: boolean, done: Verdict): void {
    const checked = this.#check(req, query, isUpgrade);
    if (!checked.ok) done(checked.error, undefined);
    else if (checked.value !== undefined) done(null, checked.value);
    else this.#allow(req, (refusal) => done(refusal, undefined));
  }

  /** The checks that need no callback: the server is open, then {@link checkRequest}. */
  #check(
    req: IncomingMessage,
    query: EngineQuery,
    isUpgrade: boolean,
  ): Result<EngineSocket | undefined, RequestRefusal> {
    if (this.#isClosed) return { ok: false, error: SERVER_CLOSED };
    return checkRequest(req, query, isUpgrade, this.#checkContext);
  }

  /** `maxConnections` for a new session: the refusal, or null. */
  #limit(): RequestRefusal | null {
    return this.#clients.size >= this.options.maxConnections ? TOO_MANY_CONNECTIONS : null;
  }

  /** Checks `maxConnections`, then runs `allowRequest` for a new session, once. */
  #allow(req: IncomingMessage, done: (refusal: RequestRefusal | null) => void): void {
    const limited = this.#limit();
    const allowRequest = this.options.allowRequest;
    if (limited !== null || allowRequest === undefined) {
      done(limited);
      return;
    }
    let isAnswered = false;
    const answer = (refusal: RequestRefusal | null): void => {
      if (isAnswered) return;
      isAnswered = true;
      done(refusal);
    };
    try {
      allowRequest(req, (err, success) => {
        answer(success ? null : { code: EngineErrorCode.FORBIDDEN, context: { message: err } });
      });
    } catch (err) {
      // A throwing allowRequest refuses one request; it must not take the process down.
      debug("allowRequest threw: %o", err);
      answer({ code: EngineErrorCode.BAD_REQUEST, context: { name: "ALLOW_REQUEST_ERROR", err } });
    }
  }

  /** A polling request for a session another live node holds. */
  #isForwardable(query: EngineQuery): query is EngineQuery & { sid: string } {
    const sid = query.sid;
    return (
      this.#router !== undefined &&
      sid !== undefined &&
      !this.#isClosed &&
      query.transport === "polling" &&
      query.EIO === "4" &&
      !this.#clients.has(sid) &&
      this.#router.canForward(sid)
    );
  }

  #refuse(req: IncomingMessage, refusal: RequestRefusal, answer: () => void): void {
    debug("refused %s %s: code %d %o", req.method, req.url, refusal.code, refusal.context);
    answer();
    const message = EngineErrorMessage[refusal.code];
    this.emit("connection_error", { req, code: refusal.code, message, context: refusal.context });
  }

  /** Answers an upgrade with an Engine.IO error and closes its connection. */
  #refuseUpgrade(req: IncomingMessage, socket: Duplex, refusal: RequestRefusal): void {
    this.#refuse(req, refusal, () => abortUpgrade(socket, refusal.code));
  }

  /**
   * The id of a new WebSocket session, or null once the upgrade was refused: for
   * `refusal`, or because no usable id was generated. With cookies on, the id is also kept
   * for the handshake's `Set-Cookie` header (see #createWss).
   */
  #newSessionId(
    req: IncomingMessage,
    socket: Duplex,
    refusal: RequestRefusal | null,
  ): string | null {
    const id = refusal === null ? this.#generateId(req) : null;
    if (id === null) {
      this.#refuseUpgrade(req, socket, refusal ?? ID_ERROR);
      return null;
    }
    if (this.options.cookie !== false) this.#pendingIds.set(req, id);
    return id;
  }

  #generateId(req: IncomingMessage): string | null {
    try {
      const id = this.options.generateId(req);
      if (typeof id === "string" && id !== "" && !this.#clients.has(id)) return id;
      debug("generateId returned an unusable id: %o", id);
    } catch (err) {
      debug("generateId threw: %o", err);
    }
    return null;
  }

  #handshakePolling(req: IncomingMessage, res: ServerResponse): void {
    const id = this.#generateId(req);
    if (id === null) {
      this.#refuse(req, ID_ERROR, () => writeHttpError(res, ID_ERROR.code));
      return;
    }
    const compression = this.options.httpCompression;
    const transport = new PollingTransport({
      maxHttpBufferSize: this.options.maxHttpBufferSize,
      maxPacketsPerPayload: this.options.maxPacketsPerPayload,
      compressionThreshold: compression === false ? false : compression.threshold,
      closeTimeout: POLLING_CLOSE_TIMEOUT,
    });
    const cookie = this.options.cookie;
    if (cookie !== false) res.setHeader("Set-Cookie", serializeCookie(id, cookie));
    const socket = this.#register(id, req, transport);
    transport.onRequest(req, res);
    this.emit("connection", socket);
  }

  /** A new session over WebSocket, unless `refusal` (or a failing id) refuses it. */
  #openWebSocket(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    refusal: RequestRefusal | null,
  ): void {
    const id = this.#newSessionId(req, socket, refusal);
    if (id !== null) this.#upgradeWebSocket(req, socket, head, undefined, id);
  }

  /** Hands the upgrade to ws: for the polling `session`, or a new session with `id`. */
  #upgradeWebSocket(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    session: EngineSocket | undefined,
    id: string | undefined,
  ): void {
    const options = this.options;
    if (options.wsEngine === "builtin" && options.perMessageDeflate === false) {
      this.#upgradeBuiltin(req, socket, head, session, id);
      return;
    }
    // The 101 response ws writes and our open packet leave in one write (see #onWebSocket).
    socket.cork();
    this.#wssOf().handleUpgrade(req, socket, head, (ws) =>
      this.#onWebSocket(req, ws, socket, session, id),
    );
    socket.uncork();
  }

  /** The upgrade with the engine's own WebSocket ({@link RawWebSocket}), not ws's. */
  #upgradeBuiltin(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    session: EngineSocket | undefined,
    id: string | undefined,
  ): void {
    const check = checkUpgrade(req);
    if (!check.ok) {
      this.#pendingIds.delete(req);
      debug("websocket handshake failed: %s", check.message);
      socket.removeListener("error", onUpgradeSocketError);
      socket.on("error", onUpgradeSocketError); // until the refusal is written
      refuseUpgrade(socket, check);
      return;
    }
    if (!socket.readable || !socket.writable) {
      this.#pendingIds.delete(req);
      socket.destroy();
      return;
    }
    const cookie = this.options.cookie;
    const cookieHeader =
      id !== undefined && cookie !== false ? `Set-Cookie: ${serializeCookie(id, cookie)}\r\n` : "";
    const ws = new RawWebSocket(socket, this.options.maxHttpBufferSize);
    const response = upgradeResponse(check.accept, check.protocol, cookieHeader);
    this.#onWebSocket(req, ws, socket, session, id, response);
    if (head.length > 0) ws.receive(head);
  }

  #onWebSocket(
    req: IncomingMessage,
    ws: EngineWebSocket | RawWebSocket,
    connection: Duplex,
    session: EngineSocket | undefined,
    id: string | undefined,
    response?: string,
  ): void {
    // The WebSocket listens for errors on the connection now: an upgrade-time listener can go.
    connection.removeListener("error", onUpgradeSocketError);
    const transport = new WebSocketTransport(ws, connection);
    // The builtin upgrade's 101 response goes first, in the same write as the frames after it.
    if (response !== undefined) transport.sendUpgradeResponse(response);
    if (session !== undefined) {
      session.upgradeTo(transport);
      return;
    }
    this.#pendingIds.delete(req);
    if (id === undefined || this.#isClosed || this.#clients.has(id)) {
      transport.close();
      return;
    }
    const socket = this.#register(id, req, transport);
    this.emit("connection", socket);
    // With ws, into the corked socket after its 101 response: one write for both.
    transport.flush();
  }

  #register(id: string, req: IncomingMessage, transport: Transport): EngineSocket {
    const options = this.options;
    const canUpgrade =
      transport.name === "polling" &&
      options.allowUpgrades &&
      options.transports.includes("websocket");
    const socket = new EngineSocket({
      id,
      request: new EngineRequest(req),
      transport,
      context: this.#context,
      upgrades: canUpgrade ? WEBSOCKET_UPGRADE : NO_UPGRADE,
      openFields: options.openPacketFields === undefined ? undefined : openFields(req, options),
    });
    this.#clients.set(id, socket);
    return socket;
  }
}

const WEBSOCKET_UPGRADE: readonly TransportName[] = Object.freeze(["websocket"]);
const NO_UPGRADE: readonly TransportName[] = Object.freeze([]);

/** A refusal without per-request details, shared (frozen: listeners see its context). */
function fixedRefusal(code: RequestRefusal["code"], name: string): RequestRefusal {
  return Object.freeze({ code, context: Object.freeze({ name }) });
}

const SERVER_CLOSED = fixedRefusal(EngineErrorCode.BAD_REQUEST, "SERVER_CLOSED");
const TOO_MANY_CONNECTIONS = fixedRefusal(EngineErrorCode.FORBIDDEN, "TOO_MANY_CONNECTIONS");
const ID_ERROR = fixedRefusal(EngineErrorCode.BAD_REQUEST, "ID_ERROR");

/** The `openPacketFields` of a handshake; none when the function throws. */
function openFields(
  req: IncomingMessage,
  options: ResolvedEngineServerOptions,
): Record<string, unknown> | undefined {
  try {
    return options.openPacketFields?.(req);
  } catch (err) {
    debug("openPacketFields threw: %o", err);
    return undefined;
  }
}

function onUpgradeSocketError(err: Error): void {
  debug("upgrade socket error: %s", err.message);
}

/** engine.io's `destroyUpgrade`: end an upgrade nobody answered within a second. */
function destroyUnhandledUpgrade(socket: Duplex): void {
  setTimeout(() => {
    const written = "bytesWritten" in socket ? Number(socket.bytesWritten) : 0;
    if (socket.writable && written <= 0) {
      socket.on("error", () => {});
      socket.destroy();
    }
  }, DESTROY_UPGRADE_DELAY).unref();
}
