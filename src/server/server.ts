/**
 * `Server`: the Socket.IO-compatible server. It owns an Engine.IO server, the namespaces
 * and their adapters, and delegates the main namespace's API (`io.on("connection")`,
 * `io.emit`, `io.to(room)`...) in one line each.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Adapter, NamespacePort, RecoverySettings } from "../adapter/adapter.js";
import { InMemoryAdapter } from "../adapter/in-memory-adapter.js";
import { DeadlineQueue } from "../engine/heartbeat.js";
import { EngineServer, type EngineServerOptions, type EngineSocket } from "../engine/index.js";
import type { SocketDecoderLimits } from "../protocol/socket-packet.js";
import { serveBareWebSocket } from "./bare-endpoint.js";
import { BareWebSocketTransport } from "./bare-transport.js";
import type { BroadcastOperator, RoomTarget } from "./broadcast-operator.js";
import { Client } from "./client.js";
import { handshakeNamespace, openPacketFields } from "./handshake.js";
import { type Middleware, Namespace, type NamespaceReservedEvents } from "./namespace.js";
import { type NamespaceMatcher, ParentNamespace } from "./parent-namespace.js";
import { nodeSessionId, routePolling } from "./polling-router.js";
import type { RemoteSocket } from "./remote-socket.js";
import type { Socket } from "./socket.js";
import type {
  AckResult,
  ArgsWithoutAck,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
  ListenerOf,
} from "./typed-events.js";

/** Server options. Engine.IO options (`pingInterval`, `cors`, ...) are accepted too. */
export interface ServerOptions extends EngineServerOptions {
  /** Where the server answers. Default `"/socket.io"`. */
  path?: string;
  /** How long a connection may take to join a namespace before it is closed. Default 45000 ms. */
  connectTimeout?: number;
  /** Builds each namespace's adapter. Default: the in-memory adapter. */
  adapter?: (port: NamespacePort) => Adapter;
  /** Most binary attachments in one packet. Default 10. */
  maxAttachments?: number;
  /** Deepest nesting of arrays/objects in one packet. Default 32. */
  maxDepth?: number;
  /** Queued bytes from which `socket.congested` is true. Default 65536. */
  congestionThreshold?: number;
  /** Timeout for `serverSideEmit` acks. Default 5000 ms. */
  serverSideEmitTimeout?: number;
  /**
   * Connection-state recovery (Socket.IO 4.6+ wire format), on by default: a client that
   * reconnects within `maxDisconnectionDuration` gets its id, rooms, data and every packet it
   * missed. `false` turns it off.
   */
  connectionStateRecovery?: false | Partial<RecoverySettings>;
  /**
   * Bare-WebSocket mode: plain WebSocket clients (`new WebSocket(url)`, no Socket.IO
   * library) speak a small JSON envelope at this path and reach the same namespaces,
   * middleware and handlers (README, "Bare WebSocket"). `true` serves it at `/ws`. Off by
   * default, so the path stays free for the application's own WebSocket endpoints.
   */
  bareWebSocket?: boolean | { path?: string };
  /** Receives debug lines (bad input, refused connections). Default: stderr when `DEBUG` names `switchboard`. */
  logger?: (message: string) => void;
}

type AttachTarget = HttpServer | HttpsServer;

const DEBUG_ENABLED = /switchboard/.test(process.env.DEBUG ?? "");

/**
 * A Socket.IO server.
 * @example
 * const io = new Server(3000);
 * io.on("connection", (socket) => {
 *   socket.on("chat", (msg) => io.emit("chat", msg));
 * });
 */
export class Server<
  ListenEvents extends EventsMap<ListenEvents> = DefaultEventsMap,
  EmitEvents extends EventsMap<EmitEvents> = DefaultEventsMap,
  ServerSideEvents extends EventsMap<ServerSideEvents> = DefaultEventsMap,
  SocketData = Record<string, unknown>,
> {
  /** The Engine.IO server carrying every connection. */
  readonly engine: EngineServer;
  /** The main namespace `"/"`. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The http server this server is attached to, if any. */
  httpServer: AttachTarget | undefined;
  /** Decoder limits applied to every connection. @internal */
  readonly decoderLimits: SocketDecoderLimits;
  /** @internal */
  readonly connectTimeout: number;
  /**
   * Connections that have not joined a namespace yet, closed after `connectTimeout`: one
   * timer for all of them instead of one per connection. @internal
   */
  readonly connectDeadlines: DeadlineQueue<Client>;
  /** @internal */
  readonly serverSideEmitTimeout: number;
  /** @internal */
  readonly congestionThreshold: number;
  /** Connection-state recovery settings, undefined when off. @internal */
  readonly recovery: RecoverySettings | undefined;
  readonly #nsps = new Map<
    string,
    Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  readonly #parents = new Map<
    NamespaceMatcher,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  readonly #createAdapter: (port: NamespacePort) => Adapter;
  readonly #logger: (message: string) => void;
  readonly #barePath: string | undefined;

  constructor(srv?: AttachTarget | number | ServerOptions, opts: ServerOptions = {}) {
    const options = typeof srv === "object" && !isHttpServer(srv) ? srv : opts;
    this.connectTimeout = options.connectTimeout ?? 45_000;
    this.connectDeadlines = new DeadlineQueue(this.connectTimeout, (client) =>
      client.onConnectTimeout(),
    );
    this.serverSideEmitTimeout = options.serverSideEmitTimeout ?? 5000;
    this.congestionThreshold = options.congestionThreshold ?? 65_536;
    this.recovery = resolveRecovery(options.connectionStateRecovery);
    this.decoderLimits = {
      maxAttachments: options.maxAttachments ?? 10,
      maxDepth: options.maxDepth ?? 32,
    };
    this.#createAdapter = options.adapter ?? ((port) => new InMemoryAdapter(port));
    const bare = options.bareWebSocket ?? false;
    this.#barePath = bare === false ? undefined : bare === true ? "/ws" : (bare.path ?? "/ws");
    this.#logger =
      options.logger ?? ((message) => DEBUG_ENABLED && console.error(`switchboard: ${message}`));
    this.engine = new EngineServer({
      ...options,
      path: options.path ?? "/socket.io",
      // Session ids name their node, so polling needs no sticky sessions (polling-router.ts).
      generateId: options.generateId ?? (() => nodeSessionId(this.sockets.adapter.nodeChannel)),
      openPacketFields: (req) =>
        openPacketFields(req, options.openPacketFields, (message) => this.log(message)),
    });
    this.engine.on("connection", (conn: EngineSocket) => {
      // After the open packet, as if the client's first packet were this CONNECT.
      const name =
        conn.transport instanceof BareWebSocketTransport
          ? undefined
          : handshakeNamespace(conn.request.url);
      const client = new Client(this, conn, name !== undefined);
      if (name !== undefined) client.connectInHandshake(name);
    });
    this.sockets = this.of("/");
    const channel = this.sockets.adapter.nodeChannel;
    if (channel !== undefined) routePolling(this.engine, channel);
    if (typeof srv === "number") this.listen(srv);
    else if (srv !== undefined && isHttpServer(srv)) this.attach(srv);
  }

  /** Attaches to an http(s) server, answering under the configured path. */
  attach(srv: AttachTarget | number): this {
    if (typeof srv === "number") return this.listen(srv);
    this.httpServer = srv;
    this.engine.attach(srv);
    if (this.#barePath !== undefined) serveBareWebSocket(this, srv, this.#barePath);
    return this;
  }

  /** Creates an http server listening on `port` and attaches to it. */
  listen(port: number): this {
    const srv = createServer((_req, res) => {
      res.writeHead(404).end();
    });
    srv.listen(port);
    return this.attach(srv);
  }

  /**
   * The namespace with this name (created on first use), or a parent of dynamic namespaces
   * for a regular expression or a matcher function.
   */
  of(
    name: string | NamespaceMatcher,
    onConnection?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name !== "string") {
      let parent = this.#parents.get(name);
      if (parent === undefined) {
        parent = new ParentNamespace(this);
        this.#parents.set(name, parent);
      }
      if (onConnection !== undefined) parent.on("connection", onConnection);
      return parent;
    }
    const normalized = name.startsWith("/") ? name : `/${name}`;
    const nsp = this.#nsps.get(normalized) ?? this.createNamespace(normalized);
    if (onConnection !== undefined) nsp.on("connection", onConnection);
    return nsp;
  }

  /** Creates and registers a namespace. @internal */
  createNamespace(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const nsp = new Namespace(this, name, this.#createAdapter);
    this.#nsps.set(name, nsp);
    return nsp;
  }

  /** The namespace of exactly this name, if it exists. @internal */
  findNamespace(
    name: string,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | undefined {
    return this.#nsps.get(name);
  }

  /**
   * For a CONNECT to a name with no namespace (see {@link Server.findNamespace}): the one a
   * dynamic matcher creates for it, or undefined when none accepts it. @internal
   */
  resolveNamespace(
    name: string,
    auth: unknown,
    done: (
      nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | undefined,
    ) => void,
  ): void {
    const matchers = [...this.#parents.entries()];
    const tryNext = (i: number): void => {
      const entry = matchers[i];
      if (entry === undefined) {
        done(undefined);
        return;
      }
      const [matcher, parent] = entry;
      const accept = (err: Error | null, ok: boolean): void => {
        if (err !== null || !ok) tryNext(i + 1);
        else done(this.#nsps.get(name) ?? parent.createChild(name));
      };
      if (matcher instanceof RegExp) accept(null, matcher.test(name));
      else matcher(name, auth, accept);
    };
    tryNext(0);
  }

  /** Registers connection middleware on the main namespace. @see Namespace.use */
  use(fn: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this {
    this.sockets.use(fn);
    return this;
  }

  /** Adds a listener on the main namespace (`"connection"`, or a server-side event). */
  on<Ev extends EventNames<ServerSideEvents> | "connection" | "connect">(
    ev: Ev,
    listener: ListenerOf<
      ServerSideEvents,
      NamespaceReservedEvents<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
      Ev
    >,
  ): this {
    this.sockets.on(ev, listener);
    return this;
  }

  /** @see Server.on */
  once<Ev extends EventNames<ServerSideEvents> | "connection" | "connect">(
    ev: Ev,
    listener: ListenerOf<
      ServerSideEvents,
      NamespaceReservedEvents<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
      Ev
    >,
  ): this {
    this.sockets.once(ev, listener);
    return this;
  }

  /** @see Server.on */
  off<Ev extends EventNames<ServerSideEvents> | "connection" | "connect">(
    ev: Ev,
    listener?: ListenerOf<
      ServerSideEvents,
      NamespaceReservedEvents<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
      Ev
    >,
  ): this {
    this.sockets.off(ev, listener);
    return this;
  }

  /** @see BroadcastOperator.to */
  to(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.to(room);
  }

  /** @see BroadcastOperator.in */
  in(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.in(room);
  }

  /** @see BroadcastOperator.except */
  except(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.except(room);
  }

  /** @see BroadcastOperator.emit */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.sockets.emit(ev, ...args);
  }

  /** @see BroadcastOperator.emitWithAck */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: ArgsWithoutAck<EmitEvents, Ev>
  ): Promise<AckResult<EmitEvents, Ev>[]> {
    return this.sockets.emitWithAck(ev, ...args);
  }

  /** @see Namespace.send */
  send(...args: unknown[]): this {
    this.sockets.send(...args);
    return this;
  }

  /** @see Namespace.send */
  write(...args: unknown[]): this {
    return this.send(...args);
  }

  /** @see BroadcastOperator.compress */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.compress(compress);
  }

  /** @see BroadcastOperator.volatile */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.volatile;
  }

  /** @see BroadcastOperator.local */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.local;
  }

  /** @see BroadcastOperator.timeout */
  timeout(ms: number): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.timeout(ms);
  }

  /** @see BroadcastOperator.fetchSockets */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.sockets.fetchSockets();
  }

  /** @see BroadcastOperator.socketsJoin */
  socketsJoin(room: RoomTarget): void {
    this.sockets.socketsJoin(room);
  }

  /** @see BroadcastOperator.socketsLeave */
  socketsLeave(room: RoomTarget): void {
    this.sockets.socketsLeave(room);
  }

  /** @see BroadcastOperator.disconnectSockets */
  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }

  /** @see Namespace.serverSideEmit */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<ServerSideEvents, Ev>
  ): boolean {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  /** @see Namespace.serverSideEmitWithAck */
  serverSideEmitWithAck<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: ArgsWithoutAck<ServerSideEvents, Ev>
  ): Promise<unknown[]> {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  /**
   * Closes every connection (their sockets disconnect with `"server shutting down"`), the
   * adapters, and the attached http server.
   */
  async close(): Promise<void> {
    for (const nsp of this.#nsps.values()) {
      for (const socket of [...nsp.sockets.values()]) socket.onClose("server shutting down");
    }
    await this.engine.close();
    this.connectDeadlines.clear();
    await Promise.allSettled([...this.#nsps.values()].map((nsp) => nsp.adapter.close()));
    const srv = this.httpServer;
    if (srv === undefined || !srv.listening) return;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections?.();
    });
  }

  /** Writes a debug line. @internal */
  log(message: string): void {
    this.#logger(message);
  }
}

function resolveRecovery(
  option: ServerOptions["connectionStateRecovery"],
): RecoverySettings | undefined {
  if (option === false) return undefined;
  return {
    maxDisconnectionDuration: option?.maxDisconnectionDuration ?? 120_000,
    maxPackets: option?.maxPackets ?? 10_000,
    skipMiddlewares: option?.skipMiddlewares ?? true,
    maxAcks: option?.maxAcks ?? 1000,
  };
}

function isHttpServer(value: unknown): value is AttachTarget {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { listen?: unknown }).listen === "function"
  );
}
