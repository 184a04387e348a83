/**
 * The default adapter: a room index for one process. Broadcasts encode the packet once and
 * hand the same encoded frames to every matching socket through the namespace port.
 */

import type { SocketPacket } from "../protocol/socket-packet.js";
import { encodeSocketPacket, SocketPacketType } from "../protocol/socket-packet.js";
import type {
  Adapter,
  BroadcastOptions,
  NamespacePort,
  PersistedSession,
  RecoveredSession,
  Room,
  SocketDetails,
  SocketId,
} from "./adapter.js";
import { MemoryRecoveryStore } from "./recovery-store.js";

/** Room index and local broadcast for one namespace in one process. */
export class InMemoryAdapter implements Adapter {
  readonly #rooms = new Map<Room, Set<SocketId>>();
  readonly #sids = new Map<SocketId, Set<Room>>();
  /** The namespace this adapter serves. */
  protected readonly port: NamespacePort;
  readonly #store: MemoryRecoveryStore | undefined;

  constructor(port: NamespacePort) {
    this.port = port;
    this.#store = port.recovery === undefined ? undefined : new MemoryRecoveryStore(port.recovery);
  }

  /** @see Adapter.rooms */
  get rooms(): ReadonlyMap<Room, ReadonlySet<SocketId>> {
    return this.#rooms;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  addAll(id: SocketId, rooms: Iterable<Room>): void {
    let joined = this.#sids.get(id);
    if (joined === undefined) {
      joined = new Set();
      this.#sids.set(id, joined);
    }
    for (const room of rooms) {
      joined.add(room);
      let members = this.#rooms.get(room);
      if (members === undefined) {
        members = new Set();
        this.#rooms.set(room, members);
      }
      members.add(id);
    }
  }

  del(id: SocketId, room: Room): void {
    this.#sids.get(id)?.delete(room);
    this.#removeMember(room, id);
  }

  delAll(id: SocketId): void {
    const joined = this.#sids.get(id);
    if (joined === undefined) return;
    for (const room of joined) this.#removeMember(room, id);
    this.#sids.delete(id);
  }

  socketRooms(id: SocketId): ReadonlySet<Room> | undefined {
    return this.#sids.get(id);
  }

  broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    const encoded = encodeSocketPacket(this.withOffset(packet, opts));
    this.forEachMatch(opts, (id) => {
      this.port.deliver(id, encoded, opts.flags);
    });
  }

  broadcastWithAck(
    packet: SocketPacket,
    opts: BroadcastOptions,
    onExpected: (count: number) => void,
    onAck: (args: unknown[]) => void,
  ): void {
    const ackId = this.port.nextAckId();
    const encoded = encodeSocketPacket({ ...packet, id: ackId });
    let count = 0;
    this.forEachMatch(opts, (id) => {
      if (this.port.deliver(id, encoded, opts.flags, ackId, onAck)) count++;
    });
    onExpected(count);
  }

  sockets(rooms: ReadonlySet<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.forEachMatch({ rooms, except: new Set(), flags: {} }, (id) => ids.add(id));
    return Promise.resolve(ids);
  }

  fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]> {
    const found: SocketDetails[] = [];
    this.forEachMatch(opts, (id) => {
      const details = this.port.describe(id);
      if (details !== undefined) found.push(details);
    });
    return Promise.resolve(found);
  }

  addSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    for (const id of this.#matching(opts)) this.addAll(id, rooms);
  }

  delSockets(opts: BroadcastOptions, rooms: readonly Room[]): void {
    for (const id of this.#matching(opts)) for (const room of rooms) this.del(id, room);
  }

  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const id of this.#matching(opts)) this.port.disconnect(id, close);
  }

  serverSideEmit(
    _args: unknown[],
    onAck?: (err: Error | null, responses: unknown[]) => void,
  ): void {
    // One node: there is nobody else to tell, so acks resolve at once with no responses.
    onAck?.(null, []);
  }

  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  lastOffset(): string | undefined {
    return this.#store?.lastOffset;
  }

  persistSession(session: PersistedSession): Promise<void> {
    this.#store?.persist(session);
    return Promise.resolve();
  }

  restoreSession(pid: string, offset: string | undefined): Promise<RecoveredSession | undefined> {
    return Promise.resolve(this.#store?.restore(pid, offset));
  }

  /**
   * With recovery on, stores an EVENT without ack that is not volatile and appends its
   * offset as the last argument (Socket.IO 4.6+ wire format); packets with acks pass unchanged.
   * Packets with acks are not stored: an ack callback cannot survive a reconnection.
   */
  protected withOffset(packet: SocketPacket, opts: BroadcastOptions): SocketPacket {
    if (
      this.#store === undefined ||
      packet.type !== SocketPacketType.EVENT ||
      packet.id !== undefined
    ) {
      return packet;
    }
    const data = packet.data as unknown[];
    if (opts.flags.volatile !== true) return { ...packet, data: this.#store.append(data, opts) };
    // A volatile event is not stored, but still carries the newest offset: clients take the
    // last string argument of every event as their offset, so without one a volatile
    // event's own string argument would be mistaken for it and spoil the next recovery.
    return { ...packet, data: [...data, this.#store.lastOffset ?? "0"] };
  }

  /**
   * Calls `fn` once for each local socket matching the options.
   * hot path: iterates the room index directly, no intermediate arrays for the common
   * single-room and whole-namespace cases.
   */
  protected forEachMatch(opts: BroadcastOptions, fn: (id: SocketId) => void): void {
    const except = opts.except.size > 0 ? this.#excluded(opts.except) : undefined;
    if (opts.rooms.size === 0) {
      for (const id of this.#sids.keys()) if (except === undefined || !except.has(id)) fn(id);
      return;
    }
    if (opts.rooms.size === 1) {
      for (const room of opts.rooms) {
        const members = this.#rooms.get(room);
        if (members === undefined) return;
        for (const id of members) if (except === undefined || !except.has(id)) fn(id);
      }
      return;
    }
    const seen = new Set<SocketId>();
    for (const room of opts.rooms) {
      const members = this.#rooms.get(room);
      if (members === undefined) continue;
      for (const id of members) {
        if (seen.has(id) || except?.has(id)) continue;
        seen.add(id);
        fn(id);
      }
    }
  }

  /** Matching ids collected first, for operations that change the room index. */
  #matching(opts: BroadcastOptions): SocketId[] {
    const ids: SocketId[] = [];
    this.forEachMatch(opts, (id) => ids.push(id));
    return ids;
  }

  #excluded(rooms: ReadonlySet<Room>): Set<SocketId> {
    const ids = new Set<SocketId>();
    for (const room of rooms) {
      const members = this.#rooms.get(room);
      if (members !== undefined) for (const id of members) ids.add(id);
    }
    return ids;
  }

  #removeMember(room: Room, id: SocketId): void {
    const members = this.#rooms.get(room);
    if (members === undefined) return;
    members.delete(id);
    if (members.size === 0) this.#rooms.delete(room);
  }
}
