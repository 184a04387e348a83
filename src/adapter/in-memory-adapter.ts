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

/**
 * Memory per socket: a room with one member keeps the member's id itself, and a socket in
 * one room keeps that room's name, instead of a Set each. Sets appear from the second entry
 * on. (A socket in its own room alone keeps nothing: see RoomIndex.)
 */
type Entries = ReadonlySet<string> | string;

const NONE: ReadonlySet<string> = new Set();

function* entriesOf(entries: Entries): Generator<string> {
  if (typeof entries === "string") yield entries;
  else yield* entries;
}

/** Adds `value` to `entries`, returning what to store (a Set from the second value on). */
function withEntry(entries: Entries | undefined, value: string): Entries {
  if (entries === undefined || entries === NONE) return value;
  if (typeof entries === "string") return entries === value ? entries : new Set([entries, value]);
  (entries as Set<string>).add(value);
  return entries;
}

/** Removes `value`, returning what to store, or undefined when nothing is left. */
function withoutEntry(entries: Entries, value: string): Entries | undefined {
  if (typeof entries === "string") return entries === value ? undefined : entries;
  (entries as Set<string>).delete(value);
  return entries.size === 0 ? undefined : entries;
}

function asSet(entries: Entries): ReadonlySet<string> {
  return typeof entries === "string" ? new Set([entries]) : entries;
}

function hasEntry(entries: Entries, value: string): boolean {
  return typeof entries === "string" ? entries === value : entries.has(value);
}

/** Whether `entries` is exactly `value`. */
function isOnly(entries: Entries, value: string): boolean {
  return typeof entries === "string" ? entries === value : entries.size === 1 && entries.has(value);
}

/**
 * The room index of one namespace. Memory per socket: a socket that is only in its own room
 * (the room named by its id, which every socket joins on connect) has no entry at all: the
 * namespace port lists it (`socketIds`, `hasSocket`). `sids` holds the rooms of the other
 * sockets, their own room included when they are in it; `rooms` holds every membership
 * but own-room ones. So a room's members are its entry in `rooms` plus, when the room is
 * named after a socket that is in it, that socket.
 *
 * The sockets the index knows (what a whole-namespace broadcast reaches, and what
 * `socketRooms` answers for): those the port lists, except the ones `delAll` removed while
 * the port still listed them (`gone`: the port lists a socket until just after its
 * `delAll`), plus those with an entry that the port does not list (a socket that joined a
 * room after it disconnected).
 */
class RoomIndex {
  /** Explicit members by room, without each socket's own-room membership. */
  readonly rooms = new Map<Room, Entries>();
  /** Every room of each known socket that is not just in its own room and listed by the port. */
  readonly sids = new Map<SocketId, Entries>();
  /**
   * Sockets the port lists that `delAll` removed; never also in `sids`. Pruned of those the
   * port no longer lists at each `delAll`, so it holds about one id.
   */
  readonly gone = new Set<SocketId>();
  readonly #port: NamespacePort;

  constructor(port: NamespacePort) {
    this.#port = port;
  }

  /** Every room of socket `id`, its own included; undefined when the index does not know it. */
  joined(id: SocketId): Entries | undefined {
    const joined = this.sids.get(id);
    if (joined !== undefined) return joined;
    return this.#port.hasSocket(id) && !this.gone.has(id) ? id : undefined;
  }

  /** Records every room of socket `id`: no entry when that is its own room alone and it is listed. */
  store(id: SocketId, joined: Entries): void {
    this.gone.delete(id);
    if (isOnly(joined, id) && this.#port.hasSocket(id)) this.sids.delete(id);
    else this.sids.set(id, joined);
  }

  /** Forgets socket `id` (its memberships of other rooms are the caller's to remove). */
  forget(id: SocketId): void {
    this.sids.delete(id);
    if (!this.#port.hasSocket(id)) return;
    for (const old of this.gone) if (!this.#port.hasSocket(old)) this.gone.delete(old);
    this.gone.add(id);
  }

  /**
   * Calls `fn` once for each known socket not in `except`.
   * hot path: whole-namespace broadcasts; no allocation beyond the two iterators.
   */
  forEachSocket(except: ReadonlySet<SocketId> | undefined, fn: (id: SocketId) => void): void {
    const gone = this.gone.size === 0 ? undefined : this.gone;
    for (const id of this.#port.socketIds()) {
      if ((gone === undefined || !gone.has(id)) && (except === undefined || !except.has(id))) {
        fn(id);
      }
    }
    if (this.sids.size === 0) return;
    for (const id of this.sids.keys()) {
      if (!this.#port.hasSocket(id) && (except === undefined || !except.has(id))) fn(id);
    }
  }

  /** The socket that room `room` is the own room of, when that socket is in it. */
  owner(room: Room): SocketId | undefined {
    const joined = this.joined(room);
    return joined !== undefined && hasEntry(joined, room) ? room : undefined;
  }

  /** Calls `fn` once for each member of `room`. */
  forEachMember(room: Room, fn: (id: SocketId) => void): void {
    const owner = this.owner(room);
    if (owner !== undefined) fn(owner);
    const members = this.rooms.get(room);
    if (members === undefined) return;
    if (typeof members === "string") fn(members);
    else for (const id of members) fn(id);
  }

  /** The members of `room`, or undefined when it has none. */
  members(room: Room): ReadonlySet<SocketId> | undefined {
    const owner = this.owner(room);
    const members = this.rooms.get(room);
    if (owner === undefined) return members === undefined ? undefined : asSet(members);
    const all = new Set<SocketId>([owner]);
    if (members !== undefined) for (const id of entriesOf(members)) all.add(id);
    return all;
  }

  /** Every room with members: the explicit ones, then the own rooms not among them. */
  *names(): Generator<Room> {
    yield* this.rooms.keys();
    yield* this.ownRooms();
  }

  /** The own rooms that have their socket in them and no entry in `rooms`, in socket order. */
  *ownRooms(): Generator<Room> {
    for (const id of this.#port.socketIds()) {
      const joined = this.sids.get(id);
      const isIn = joined === undefined ? !this.gone.has(id) : hasEntry(joined, id);
      if (isIn && !this.rooms.has(id)) yield id;
    }
    for (const [id, joined] of this.sids) {
      if (!this.#port.hasSocket(id) && hasEntry(joined, id) && !this.rooms.has(id)) yield id;
    }
  }
}

/** The room index seen as `Map<Room, Set<SocketId>>` (each room's members as a Set on read). */
class RoomsView implements ReadonlyMap<Room, ReadonlySet<SocketId>> {
  readonly #index: RoomIndex;
  constructor(index: RoomIndex) {
    this.#index = index;
  }
  /** Counts the rooms: linear in the number of sockets (own rooms are not stored). */
  get size(): number {
    let size = this.#index.rooms.size;
    for (const _ of this.#index.ownRooms()) size++;
    return size;
  }
  get(room: Room): ReadonlySet<SocketId> | undefined {
    return this.#index.members(room);
  }
  has(room: Room): boolean {
    return this.#index.rooms.has(room) || this.#index.owner(room) !== undefined;
  }
  keys(): MapIterator<Room> {
    return this.#index.names();
  }
  *values(): MapIterator<ReadonlySet<SocketId>> {
    for (const room of this.#index.names()) yield this.#index.members(room) ?? NONE;
  }
  *entries(): MapIterator<[Room, ReadonlySet<SocketId>]> {
    for (const room of this.#index.names()) yield [room, this.#index.members(room) ?? NONE];
  }
  [Symbol.iterator](): MapIterator<[Room, ReadonlySet<SocketId>]> {
    return this.entries();
  }
  forEach(
    fn: (
      members: ReadonlySet<SocketId>,
      room: Room,
      map: ReadonlyMap<Room, ReadonlySet<SocketId>>,
    ) => void,
  ): void {
    for (const [room, members] of this.entries()) fn(members, room, this);
  }
}

/**
 * Room index and local broadcast for one namespace in one process.
 *
 * For subclasses: a socket the port lists is in its own room (`rooms`, `socketRooms`) from
 * the moment it is listed, before its `addAll(id, [id])` runs, and in no room once
 * `delAll(id)` ran.
 */
export class InMemoryAdapter implements Adapter {
  readonly #index: RoomIndex;
  readonly #rooms: Map<Room, Entries>;
  readonly #view: RoomsView;
  /** The namespace this adapter serves. */
  protected readonly port: NamespacePort;
  readonly #store: MemoryRecoveryStore | undefined;

  constructor(port: NamespacePort) {
    this.port = port;
    this.#index = new RoomIndex(port);
    this.#rooms = this.#index.rooms;
    this.#view = new RoomsView(this.#index);
    this.#store = port.recovery === undefined ? undefined : new MemoryRecoveryStore(port.recovery);
  }

  /** @see Adapter.rooms */
  get rooms(): ReadonlyMap<Room, ReadonlySet<SocketId>> {
    return this.#view;
  }

  init(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  addAll(id: SocketId, rooms: Iterable<Room>): void {
    let joined = this.#index.joined(id) ?? NONE;
    for (const room of rooms) {
      joined = withEntry(joined, room);
      // A socket's own room is not recorded in #rooms (see RoomIndex).
      if (room !== id) this.#rooms.set(room, withEntry(this.#rooms.get(room), id));
    }
    this.#index.store(id, joined);
  }

  del(id: SocketId, room: Room): void {
    const joined = this.#index.joined(id);
    if (joined !== undefined) this.#index.store(id, withoutEntry(joined, room) ?? NONE);
    if (room !== id) this.#removeMember(room, id);
  }

  delAll(id: SocketId): void {
    const joined = this.#index.joined(id);
    if (joined === undefined) return;
    this.#index.forget(id);
    if (typeof joined === "string") {
      if (joined !== id) this.#removeMember(joined, id);
      return;
    }
    for (const room of joined) if (room !== id) this.#removeMember(room, id);
  }

  socketRooms(id: SocketId): ReadonlySet<Room> | undefined {
    const joined = this.#index.joined(id);
    return joined === undefined ? undefined : asSet(joined);
  }

  broadcast(packet: SocketPacket, opts: BroadcastOptions): void {
    const encoded = encodeSocketPacket(this.withOffset(packet, opts));
    this.#store?.keepEncoded(encoded);
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
      this.#index.forEachSocket(except, fn);
      return;
    }
    if (opts.rooms.size === 1) {
      for (const room of opts.rooms) {
        const owner = this.#index.owner(room);
        if (owner !== undefined && (except === undefined || !except.has(owner))) fn(owner);
        const members = this.#rooms.get(room);
        if (members === undefined) return;
        if (typeof members === "string") {
          if (except === undefined || !except.has(members)) fn(members);
          return;
        }
        for (const id of members) if (except === undefined || !except.has(id)) fn(id);
      }
      return;
    }
    const seen = new Set<SocketId>();
    for (const room of opts.rooms) {
      this.#index.forEachMember(room, (id) => {
        if (seen.has(id) || except?.has(id)) return;
        seen.add(id);
        fn(id);
      });
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
    for (const room of rooms) this.#index.forEachMember(room, (id) => ids.add(id));
    return ids;
  }

  #removeMember(room: Room, id: SocketId): void {
    const members = this.#rooms.get(room);
    if (members === undefined) return;
    const left = withoutEntry(members, id);
    if (left === undefined) this.#rooms.delete(room);
    else if (left !== members) this.#rooms.set(room, left);
  }
}
