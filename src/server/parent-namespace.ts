/**
 * Dynamic namespaces: `io.of(/^\/room-\d+$/)` or `io.of((name, auth, next) => ...)` returns a
 * `ParentNamespace`. Each matching name becomes a child namespace on first connection,
 * inheriting the parent's middleware and connection listeners. Broadcasting on the parent
 * reaches every child.
 */
import type {
  Adapter,
  BroadcastOptions,
  RecoveredSession,
  Room,
  SocketDetails,
  SocketId,
} from "../adapter/adapter.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import { Namespace } from "./namespace.js";
import type { Server } from "./server.js";
import type { DefaultEventsMap, EventsMap } from "./typed-events.js";

/** Decides whether a namespace name is accepted: call `next(null, true)` to accept. */
export type NamespaceMatcher =
  | RegExp
  | ((name: string, auth: unknown, next: (err: Error | null, accept: boolean) => void) => void);

/** A namespace standing for every child namespace a matcher accepted. */
export class ParentNamespace<
  ListenEvents extends EventsMap<ListenEvents> = DefaultEventsMap,
  EmitEvents extends EventsMap<EmitEvents> = DefaultEventsMap,
  ServerSideEvents extends EventsMap<ServerSideEvents> = DefaultEventsMap,
  SocketData = Record<string, unknown>,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  static #count = 0;
  /** The child namespaces created so far. */
  readonly children: Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>;

  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    const children = new Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
    super(server, `/_${ParentNamespace.#count++}`, () => new ParentAdapter(children));
    this.children = children;
  }

  /** Creates the child namespace for an accepted name. @internal */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = this.server.createNamespace(name);
    for (const fn of this.middlewares) child.use(fn);
    for (const listener of this.listeners("connect")) child.on("connect", listener);
    for (const listener of this.listeners("connection")) child.on("connection", listener);
    this.children.add(child);
    return child;
  }
}

/** Fans a parent namespace's operations out to its children's adapters. */
class ParentAdapter implements Adapter {
  readonly #children: ReadonlySet<{ readonly name: string; readonly adapter: Adapter }>;

  constructor(children: ReadonlySet<{ readonly name: string; readonly adapter: Adapter }>) {
    this.#children = children;
  }

  get rooms(): ReadonlyMap<Room, ReadonlySet<SocketId>> {
    return new Map();
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  addAll(): void {}
  del(): void {}
  delAll(): void {}

  socketRooms(): ReadonlySet<Room> | undefined {
    return undefined;
  }

  broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    for (const child of this.#children)
      child.adapter.broadcast({ ...packet, nsp: child.name }, opts);
  }

  broadcastWithAck(
    packet: SocketPacket,
    opts: BroadcastOptions,
    onExpected: (count: number) => void,
    onAck: (args: unknown[]) => void,
  ): void {
    let total = 0;
    for (const child of this.#children) {
      child.adapter.broadcastWithAck(
        { ...packet, nsp: child.name },
        opts,
        (n) => (total += n),
        onAck,
      );
    }
    onExpected(total);
  }

  async sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    const all = new Set<SocketId>();
    for (const child of this.#children)
      for (const id of await child.adapter.sockets(rooms)) all.add(id);
    return all;
  }

  async fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]> {
    const all: SocketDetails[] = [];
    for (const child of this.#children) all.push(...(await child.adapter.fetchSockets(opts)));
    return all;
  }

  addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    for (const child of this.#children) child.adapter.addSockets(opts, rooms);
  }

  delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    for (const child of this.#children) child.adapter.delSockets(opts, rooms);
  }

  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const child of this.#children) child.adapter.disconnectSockets(opts, close);
  }

  serverSideEmit(
    _args: unknown[],
    onAck?: (err: Error | null, responses: unknown[]) => void,
  ): void {
    onAck?.(null, []);
  }

  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  // A parent has no sockets of its own: sessions live in the children's adapters.
  lastOffset(): string | undefined {
    return undefined;
  }

  persistSession(): Promise<void> {
    return Promise.resolve();
  }

  restoreSession(): Promise<RecoveredSession | undefined> {
    return Promise.resolve(undefined);
  }
}
