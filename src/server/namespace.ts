/**
 * `Namespace`: a channel of the server (`io.of("/admin")`) with its own sockets, rooms,
 * middleware and adapter. Broadcasting methods delegate to {@link BroadcastOperator}.
 */
import type {
  Adapter,
  NamespacePort,
  RecoveredSession,
  Room,
  SocketDetails,
} from "../adapter/adapter.js";
import { isSessionTracker, type SessionTracker } from "../adapter/session-tracker.js";
import { randomId } from "../engine/index.js";
import { SocketPacketType } from "../protocol/socket-packet.js";
import { BroadcastOperator, type RoomTarget } from "./broadcast-operator.js";
import type { Client } from "./client.js";
import { handshakeOrTime } from "./handshake.js";
import type { RemoteSocket } from "./remote-socket.js";
import { runMiddlewares } from "./run-middlewares.js";
import type { Server } from "./server.js";
import { pidSocketId, pidTail } from "./session-pid.js";
import { Socket } from "./socket.js";
import { TypedEmitter } from "./typed-emitter.js";
import type {
  AckResult,
  ArgsWithoutAck,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
} from "./typed-events.js";

/** An error passed to a middleware's `next()`; `data` reaches the client's `connect_error`. */
export interface ExtendedError extends Error {
  data?: unknown;
}

/** Connection middleware: `io.use((socket, next) => ...)`. */
export type Middleware<S> = (socket: S, next: (err?: ExtendedError) => void) => void;

/** Events the library fires on a namespace. */
export interface NamespaceReservedEvents<S> {
  connection(socket: S): void;
  connect(socket: S): void;
}

/**
 * A namespace of the server.
 * @example
 * const admin = io.of("/admin");
 * admin.use((socket, next) => (socket.handshake.auth.token === "s3cret" ? next() : next(new Error("unauthorized"))));
 * admin.on("connection", (socket) => socket.emit("welcome"));
 */
export class Namespace<
  ListenEvents extends EventsMap<ListenEvents> = DefaultEventsMap,
  EmitEvents extends EventsMap<EmitEvents> = DefaultEventsMap,
  ServerSideEvents extends EventsMap<ServerSideEvents> = DefaultEventsMap,
  SocketData = Record<string, unknown>,
> extends TypedEmitter<
  ServerSideEvents,
  NamespaceReservedEvents<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>
> {
  /** The namespace name, e.g. `"/"` or `"/admin"`. */
  readonly name: string;
  /** The server this namespace belongs to. */
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** The connected sockets of this namespace on this node, by id. */
  readonly sockets = new Map<
    string,
    Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  /** The adapter resolving rooms (in-memory unless configured). */
  readonly adapter: Adapter;
  // Sessions still being persisted.
  readonly #persisting = new Map<string, Promise<unknown>>();
  // Sessions being restored: one restore per session at a time.
  readonly #restoring = new Map<string, Promise<void>>();
  readonly #ready: Promise<void>;
  // Set once `#ready` settled: from then on a plain join needs no promise.
  #isReady = false;
  // The adapter, when it keeps connected sockets' sessions outside the process.
  readonly #tracker: SessionTracker | undefined;
  readonly #fns: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>[] = [];
  #ackId = 0;

  constructor(
    server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    name: string,
    createAdapter: (port: NamespacePort) => Adapter,
  ) {
    super();
    this.server = server;
    this.name = name;
    this.adapter = createAdapter(this.#port());
    this.#tracker = isSessionTracker(this.adapter) ? this.adapter : undefined;
    this.#ready = this.adapter
      .init()
      .catch((err: unknown) => {
        // Joins still proceed: local delivery works, and the adapter reports its own errors.
        server.log(`${name}: adapter init failed: ${String(err)}`);
      })
      .then(() => {
        this.#isReady = true;
      });
  }

  /** Registers connection middleware, run in order before `connection`. */
  use(fn: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this {
    this.#fns.push(fn);
    return this;
  }

  /** The registered middleware. @internal */
  get middlewares(): readonly Middleware<
    Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >[] {
    return this.#fns;
  }

  /** @see BroadcastOperator.to */
  to(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().to(room);
  }

  /** @see BroadcastOperator.in */
  in(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().in(room);
  }

  /** @see BroadcastOperator.except */
  except(room: RoomTarget): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().except(room);
  }

  /** @see BroadcastOperator.emit */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator().emit(ev, ...args);
  }

  /** @see BroadcastOperator.emitWithAck */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: ArgsWithoutAck<EmitEvents, Ev>
  ): Promise<AckResult<EmitEvents, Ev>[]> {
    return this.#operator().emitWithAck(ev, ...args);
  }

  /** Emits a `"message"` event to every socket. */
  send(...args: unknown[]): this {
    (this.#operator().emit as (ev: string, ...rest: unknown[]) => boolean)("message", ...args);
    return this;
  }

  /** @see Namespace.send */
  write(...args: unknown[]): this {
    return this.send(...args);
  }

  /** @see BroadcastOperator.compress */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().compress(compress);
  }

  /** @see BroadcastOperator.volatile */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().volatile;
  }

  /** @see BroadcastOperator.local */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().local;
  }

  /** @see BroadcastOperator.timeout */
  timeout(ms: number): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().timeout(ms);
  }

  /** @see BroadcastOperator.fetchSockets */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.#operator().fetchSockets();
  }

  /** @see BroadcastOperator.socketsJoin */
  socketsJoin(room: RoomTarget): void {
    this.#operator().socketsJoin(room);
  }

  /** @see BroadcastOperator.socketsLeave */
  socketsLeave(room: RoomTarget): void {
    this.#operator().socketsLeave(room);
  }

  /** @see BroadcastOperator.disconnectSockets */
  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close);
  }

  /** @see BroadcastOperator.allSockets */
  allSockets(): Promise<Set<string>> {
    return this.#operator().allSockets();
  }

  /**
   * Emits to the server-side listeners of the other nodes (not this one). A trailing
   * function collects their responses: `(err, responses)`.
   */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<ServerSideEvents, Ev>
  ): boolean {
    const data: unknown[] = [ev, ...args];
    const last = data[data.length - 1];
    if (typeof last === "function") {
      data.pop();
      this.adapter.serverSideEmit(
        data,
        last as (err: Error | null, responses: unknown[]) => void,
        this.#timeout,
      );
    } else {
      this.adapter.serverSideEmit(data);
    }
    return true;
  }

  /** Like `serverSideEmit` with a trailing ack, as a promise of every node's response. */
  serverSideEmitWithAck<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: ArgsWithoutAck<ServerSideEvents, Ev>
  ): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.adapter.serverSideEmit(
        [ev, ...args],
        (err, responses) => (err === null ? resolve(responses) : reject(err)),
        this.#timeout,
      );
    });
  }

  get #timeout(): number {
    return this.server.serverSideEmitTimeout;
  }

  /** Allocates a namespace-wide ack id. @internal */
  nextAckId(): number {
    const id = this.#ackId;
    this.#ackId = (this.#ackId + 1) % 0x7fffffff;
    return id;
  }

  /**
   * Creates the socket for a CONNECT (restoring its session when the client presents a
   * recoverable one), runs middleware and, if it passes, connects it and attaches it to
   * `client`. @internal
   */
  addClient(client: Client, auth: unknown): void {
    const recovery = this.server.recovery === undefined ? undefined : recoveryAuth(auth);
    if (recovery === undefined && this.#isReady) {
      // hot path: nothing to restore and the adapter ready, so the join runs in this turn,
      // without a promise: a packet the client sent right behind its CONNECT (decoded in
      // this same turn) finds the socket, and a connect leaves no promise garbage behind.
      this.#admit(client, auth, undefined);
      return;
    }
    // Joins wait for the adapter to be ready (a cluster adapter subscribing, a stream
    // reader starting), so a first socket gets a start offset and its broadcasts. A restore
    // also waits for an earlier one of the same session: a client whose connection was cut
    // while its session was restored comes back at once, and finds the session put back.
    const previous = recovery === undefined ? undefined : this.#restoring.get(recovery.pid);
    const admitted = Promise.all([this.#ready, previous])
      .then(() => this.#restore(recovery))
      .then(
        (session) => this.#admit(client, auth, session),
        (err: unknown) => {
          // A failing store must not block the connection: the client simply is not recovered.
          this.server.log(`${this.name}: session restore failed: ${String(err)}`);
          this.#admit(client, auth, undefined);
        },
      );
    if (recovery === undefined) return;
    const done = (): void => {
      if (this.#restoring.get(recovery.pid) === settled) this.#restoring.delete(recovery.pid);
    };
    const settled = admitted.then(done, done);
    this.#restoring.set(recovery.pid, settled);
  }

  async #restore(
    recovery: { pid: string; offset: string | undefined } | undefined,
  ): Promise<RecoveredSession | undefined> {
    if (recovery === undefined) return undefined;
    // The client may come back before this server noticed its old connection died (a cut
    // TCP connection, a pending ping timeout): that connection is taken over, so the
    // session can be restored instead of forked.
    this.#socketOfPid(recovery.pid)?.takeOver();
    await this.#persisting.get(recovery.pid);
    return this.adapter.restoreSession(recovery.pid, recovery.offset);
  }

  /** The connected socket of pid `pid`, found through the socket id the pid starts with. */
  #socketOfPid(
    pid: string,
  ): Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | undefined {
    const id = pidSocketId(pid);
    const socket = id === undefined ? undefined : this.sockets.get(id);
    return socket?.pid === pid ? socket : undefined;
  }

  /** Records a session being persisted, so a restore of that pid waits for it. @internal */
  trackPersist(pid: string, done: Promise<void>): void {
    const settled = done.finally(() => {
      if (this.#persisting.get(pid) === settled) this.#persisting.delete(pid);
    });
    this.#persisting.set(pid, settled);
  }

  #admit(client: Client, auth: unknown, session: RecoveredSession | undefined): void {
    if (client.conn.readyState !== "open") {
      this.#putBack(session); // the client left meanwhile: its next try restores the session
      return;
    }
    const handshake = handshakeOrTime(client.conn.request, stripRecovery(auth));
    const id = session?.sid ?? randomId();
    // Memory per connection: the socket keeps the random part of its pid (see sessionPid).
    const pid =
      this.server.recovery === undefined
        ? undefined
        : session === undefined
          ? randomId()
          : pidTail(id, session.pid);
    // A restored session keeps its start: a client that got no packet yet (its missed ones
    // may never reach it) must find them all again on its next recovery.
    const start = session === undefined ? this.adapter.lastOffset() : session.startOffset;
    const socket = new Socket(this, client, id, handshake, pid, start);
    const fns = this.#fns;
    if (
      fns.length === 0 ||
      (session !== undefined && this.server.recovery?.skipMiddlewares === true)
    ) {
      // hot path: no middleware to wait for, so no callback to allocate.
      this.#connect(socket, client, session, start);
      return;
    }
    runMiddlewares(fns, socket, (err) => {
      if (client.conn.readyState !== "open") {
        this.#putBack(session); // the client left while middleware ran
        return;
      }
      if (err === undefined) {
        this.#connect(socket, client, session, start);
        return;
      }
      this.server.log(`${this.name}: middleware refused a socket: ${err.message}`);
      const data = (err as ExtendedError).data;
      client.writePacket(
        {
          type: SocketPacketType.CONNECT_ERROR,
          nsp: this.name,
          data: data === undefined ? { message: err.message } : { message: err.message, data },
        },
        {},
      );
    });
  }

  #connect(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Client,
    session: RecoveredSession | undefined,
    start: string | undefined,
  ): void {
    this.sockets.set(socket.id, socket);
    socket.onConnect(session);
    client.attach(socket);
    // One argument list for both events.
    const args = [socket];
    this.emitUntyped("connect", args);
    this.emitUntyped("connection", args);
    // After the listeners: the first snapshot has the rooms they joined.
    const tracker = this.#tracker;
    if (tracker !== undefined && socket.connected) {
      const pid = socket.pid;
      if (pid !== undefined) tracker.trackSession({ sid: socket.id, pid, startOffset: start });
    }
  }

  /** Persists again a restored session that no socket took (a restore is at most once). */
  #putBack(session: RecoveredSession | undefined): void {
    if (session === undefined) return;
    const { missedPackets: _, ...persisted } = session;
    const done = this.adapter.persistSession(persisted).catch((err: unknown) => {
      this.server.log(`${this.name}: could not persist session ${session.pid}: ${String(err)}`);
    });
    this.trackPersist(session.pid, done);
  }

  /** Forgets a disconnected socket. @internal */
  removeSocket(socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (this.sockets.get(socket.id) === socket) this.sockets.delete(socket.id);
  }

  /** Fires server-side listeners for an event from another node. @internal */
  receiveServerSideEmit(args: unknown[], ack?: (response: unknown) => void): void {
    const [ev, ...rest] = args;
    if (typeof ev !== "string") return;
    this.emitUntyped(ev, ack === undefined ? rest : [...rest, ack]);
  }

  #operator(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.adapter, this.name);
  }

  #port(): NamespacePort {
    return {
      name: this.name,
      recovery: this.server.recovery,
      deliver: (id, encoded, flags, ackId, onAck) => {
        const socket = this.sockets.get(id);
        if (socket === undefined || !socket.connected) return false;
        if (ackId !== undefined && onAck !== undefined) socket.registerBroadcastAck(ackId, onAck);
        return socket.writeEncoded(encoded, flags);
      },
      // #connect lists a socket before it joins its own room; onClose calls delAll before
      // removeSocket: the order the port documents.
      socketIds: () => this.sockets.keys(),
      hasSocket: (id) => this.sockets.has(id),
      describe: (id) => {
        const socket = this.sockets.get(id);
        if (socket === undefined) return undefined;
        const details: SocketDetails = {
          id,
          handshake: socket.handshake,
          rooms: new Set<Room>(socket.rooms),
          data: socket.data,
        };
        return details;
      },
      disconnect: (id, close) => {
        this.sockets.get(id)?.disconnect(close);
      },
      receiveServerSideEmit: (args, ack) => this.receiveServerSideEmit(args, ack),
      nextAckId: () => this.nextAckId(),
    };
  }
}

/** The recovery fields of a CONNECT's auth payload, when it has valid ones. */
function recoveryAuth(auth: unknown): { pid: string; offset: string | undefined } | undefined {
  if (typeof auth !== "object" || auth === null) return undefined;
  const { pid, offset } = auth as { pid?: unknown; offset?: unknown };
  if (typeof pid !== "string" || (offset !== undefined && typeof offset !== "string"))
    return undefined;
  return { pid, offset };
}

/** The auth payload without the recovery fields the client adds (`pid`, `offset`). */
function stripRecovery(auth: unknown): unknown {
  if (typeof auth !== "object" || auth === null || !("pid" in auth)) return auth;
  const { pid: _pid, offset: _offset, ...rest } = auth as Record<string, unknown>;
  return rest;
}
