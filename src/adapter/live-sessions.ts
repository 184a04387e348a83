/**
 * `LiveSessions`: the snapshots of connected sockets' sessions that a cluster adapter keeps
 * in its store (see {@link SessionTracker}), so that a node that dies without persisting
 * anything leaves its sessions behind. The cost is per connection, never per message: one
 * write when a socket connects (once its `connection` listeners ran, so with the rooms they
 * joined), one per burst of later joins or leaves (`delayMs` apart), one per socket every
 * `refreshMs` (keeping the time to live, and picking up `socket.data` changes), one delete
 * when a socket leaves without a session.
 *
 * ```
 *   track (connected) ─────────────────────────────> written ──(every refreshMs)──> written again
 *   touch (join, leave) ──> dirty ──(delayMs)──> written
 *   persisted (disconnect, session saved) ──> forgotten: the saved session replaced it
 *   left (disconnect, nothing saved)      ──> forgotten and removed from the store
 * ```
 * The first write leaves at once, in the turn that sent the client its CONNECT: a client
 * that got its session id can recover it, unless the node dies within that write's round
 * trip to the store.
 * A snapshot is marked `live` and names its node: a node about to restore one must first
 * make sure that node no longer holds the socket (the adapters' restore does).
 */
import { AdapterError, ErrorCode } from "../errors.js";
import type { BroadcastOptions, NamespacePort, SocketDetails, SocketId } from "./adapter.js";
import type { StoredSession } from "./session-codec.js";
import type { LiveSession, RoomWatcher } from "./session-tracker.js";

/** Where snapshots go: the adapter's store. */
export interface SnapshotSink {
  /** Writes (or overwrites) the snapshot of `session.pid`. */
  write(session: StoredSession): Promise<unknown>;
  /** Removes the session of `pid`. */
  remove(pid: string): Promise<unknown>;
}

/** Settings of {@link LiveSessions}. */
export interface LiveSessionsOptions {
  /** This node's uid, written into each snapshot. */
  readonly node: string;
  /** Longest time between two writes of a connected socket's snapshot, in ms. */
  readonly refreshMs: number;
  /** How long a changed session waits before it is written, in ms. Default 50. */
  readonly delayMs?: number;
  /** A local socket's rooms and data (the namespace port's `describe`). */
  readonly describe: (sid: SocketId) => SocketDetails | undefined;
  readonly sink: SnapshotSink;
  /** A write or delete failed (the broker is down, typically). */
  readonly onError: (error: AdapterError) => void;
}

interface Entry {
  readonly pid: string;
  readonly startOffset: string | undefined;
  /** When the last write was sent; 0 before the first. */
  writtenAt: number;
}

/** The connected sockets of one namespace on this node whose sessions are kept outside. */
export class LiveSessions implements RoomWatcher {
  readonly #options: LiveSessionsOptions;
  readonly #tracked = new Map<SocketId, Entry>();
  #dirty = new Set<SocketId>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #refreshTimer: ReturnType<typeof setInterval> | undefined;

  constructor(options: LiveSessionsOptions) {
    this.#options = options;
  }

  /** How many sockets are tracked. */
  get size(): number {
    return this.#tracked.size;
  }

  /** Starts keeping the session of a socket that connected, and writes it now. */
  track(session: LiveSession, now = Date.now()): void {
    this.#tracked.set(session.sid, {
      pid: session.pid,
      startOffset: session.startOffset,
      writtenAt: 0,
    });
    this.#dirty.delete(session.sid);
    this.#write(session.sid, now);
    if (this.#refreshTimer === undefined) {
      // Checked twice per period, so no snapshot goes longer than refreshMs unwritten.
      this.#refreshTimer = setInterval(() => this.refresh(), this.#options.refreshMs / 2);
      this.#refreshTimer.unref?.();
    }
  }

  /** The socket's rooms changed: its snapshot is written again soon. */
  touch(sid: SocketId): void {
    if (this.#tracked.has(sid)) this.#markDirty(sid);
  }

  /** The socket disconnected and its session was persisted over the snapshot. */
  persisted(sid: SocketId): void {
    if (this.#tracked.delete(sid)) this.#dirty.delete(sid);
  }

  /** The socket disconnected without a session to keep: its snapshot is removed. */
  left(sid: SocketId): void {
    const entry = this.#tracked.get(sid);
    if (entry === undefined) return;
    this.#tracked.delete(sid);
    this.#dirty.delete(sid);
    this.#options.sink
      .remove(entry.pid)
      .catch((err: unknown) => this.#report(err, "remove a session snapshot"));
  }

  /** Writes the snapshots of the sessions that changed. */
  flush(now = Date.now()): void {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const sid of dirty) this.#write(sid, now);
  }

  /** Writes again every snapshot written at least `refreshMs / 2` ago. */
  refresh(now = Date.now()): void {
    const due = now - this.#options.refreshMs / 2;
    for (const [sid, entry] of this.#tracked) {
      if (entry.writtenAt !== 0 && entry.writtenAt <= due) this.#write(sid, now);
    }
  }

  /** Stops the timers and forgets every socket (their snapshots expire in the store). */
  close(): void {
    clearTimeout(this.#flushTimer);
    clearInterval(this.#refreshTimer);
    this.#flushTimer = undefined;
    this.#refreshTimer = undefined;
    this.#tracked.clear();
    this.#dirty.clear();
  }

  #markDirty(sid: SocketId): void {
    this.#dirty.add(sid);
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = setTimeout(() => this.flush(), this.#options.delayMs ?? 50);
    this.#flushTimer.unref?.();
  }

  #write(sid: SocketId, now: number): void {
    const entry = this.#tracked.get(sid);
    if (entry === undefined) return;
    const details = this.#options.describe(sid);
    if (details === undefined) {
      this.#tracked.delete(sid); // gone without telling (cannot happen through a namespace)
      return;
    }
    entry.writtenAt = now;
    const session: StoredSession = {
      sid,
      pid: entry.pid,
      rooms: [...details.rooms],
      data: details.data,
      startOffset: entry.startOffset,
      node: this.#options.node,
      live: true,
    };
    this.#options.sink
      .write(session)
      .catch((err: unknown) => this.#report(err, "write a session snapshot"));
  }

  #report(cause: unknown, action: string): void {
    const message = `cannot ${action}: ${String(cause)}`;
    this.#options.onError(new AdapterError(ErrorCode.ADAPTER_ERROR, message, { cause }));
  }
}

/**
 * The live sessions of a namespace, or undefined when recovery is off or `enabled` is
 * false; written every {@link snapshotRefreshMs} at least.
 */
export function createLiveSessions(
  port: NamespacePort,
  enabled: boolean | undefined,
  node: string,
  sink: SnapshotSink,
  onError: (error: AdapterError) => void,
): LiveSessions | undefined {
  const recovery = port.recovery;
  if (recovery === undefined || enabled === false) return undefined;
  const refreshMs = snapshotRefreshMs(recovery.maxDisconnectionDuration);
  return new LiveSessions({
    node,
    refreshMs,
    describe: (sid) => port.describe(sid),
    sink,
    onError,
  });
}

/** What {@link isHeldElsewhere} asks of a cluster adapter. */
export interface ClusterView {
  readonly uid: string;
  isLiveNode(uid: string): boolean;
  fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]>;
}

/**
 * Whether the socket of a live snapshot may still be connected on its node, so the snapshot
 * must not be restored (the session would fork). False when the snapshot is this node's, or
 * its node is not alive (it crashed: the case snapshots exist for), or that node answers
 * that it no longer has the socket. A node still listed alive that does not answer (it died
 * less than `heartbeatTimeout` ago) costs one `requestsTimeout`, then counts as gone. True
 * when the question cannot be asked (broker down): a session is never restored twice.
 */
export async function isHeldElsewhere(
  cluster: ClusterView,
  session: StoredSession,
): Promise<boolean> {
  if (session.node === cluster.uid || !cluster.isLiveNode(session.node)) return false;
  const opts: BroadcastOptions = { rooms: new Set([session.sid]), except: new Set(), flags: {} };
  try {
    return (await cluster.fetchSockets(opts)).length > 0;
  } catch {
    return true;
  }
}

/** A session just taken from the store, and how to undo or redo that (see {@link admitTaken}). */
export interface Taken<T> {
  readonly taken: T;
  /** The stored session in a taken value. */
  sessionOf(taken: T): StoredSession;
  /**
   * When this node will have heard from every live node (its start plus one
   * `heartbeatInterval`): before that, a node it does not know may be alive.
   */
  readonly settledAt: number;
  /** Takes the session again (and reads again what it missed). */
  retake(): Promise<T | undefined>;
  /** Puts the session back, without overwriting a session saved meanwhile. */
  putBack(session: StoredSession): Promise<unknown>;
}

/**
 * The step of a restore that both adapters share, once the session was taken from the store.
 * A live snapshot is restored only when its node cannot still hold the socket:
 * ```
 *   saved session, or this node's own snapshot ────────────────────────────> restored
 *   this node's own copy from an earlier restore ──────────────────────────> not restored
 *   node unknown once this node settled: it died ──────────────────────────> restored
 *   otherwise, the session is put back while this node finds out:
 *     node unknown before this node settled ──(wait, then as above)
 *     node alive, restoring it right now (its socket is not up yet) ───────> not restored
 *     node alive, answers it has the socket (isHeldElsewhere) ─────────────> not restored
 *     node alive, let the socket go (it saved the session first) ──────────> taken again
 * ```
 * Taken again, not kept: a restore reads what the client missed in the turn that ends it,
 * so nothing reaches the socket's rooms between that read and the socket joining them.
 */
export async function admitTaken<T>(cluster: ClusterView, t: Taken<T>): Promise<T | undefined> {
  const session = t.sessionOf(t.taken);
  if (session.live !== true) return t.taken;
  // This node's copy from a restore that ended without a socket: restored once already.
  if (session.node === cluster.uid) return session.restoring === true ? undefined : t.taken;
  const isSettled = Date.now() >= t.settledAt;
  if (isSettled && !cluster.isLiveNode(session.node)) return t.taken;
  await t.putBack(session);
  if (!(await mayTake(cluster, session, t.settledAt))) return undefined;
  const again = await t.retake();
  if (again === undefined) return undefined;
  const now = t.sessionOf(again);
  // Another node's snapshot or copy came in meanwhile: no time left to look into it.
  const isSame = now.node === session.node && now.restoring === session.restoring;
  if (now.live !== true || isSame) return again;
  await t.putBack(now);
  return undefined;
}

/** Whether the snapshot `session` of another node may be restored (see {@link admitTaken}). */
async function mayTake(
  cluster: ClusterView,
  session: StoredSession,
  settledAt: number,
): Promise<boolean> {
  if (!cluster.isLiveNode(session.node)) {
    const wait = settledAt - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (!cluster.isLiveNode(session.node)) return true;
  }
  return session.restoring !== true && !(await isHeldElsewhere(cluster, session));
}

/** How often a connected socket's snapshot is written again: a quarter of its time to live. */
export function snapshotRefreshMs(maxDisconnectionDuration: number): number {
  return Math.max(1000, maxDisconnectionDuration / 4);
}
