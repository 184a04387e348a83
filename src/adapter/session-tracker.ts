/**
 * `SessionTracker`: an optional capability of an adapter whose recovery store lives outside
 * the process (Redis Streams, NATS JetStream). The namespace tells it about every socket
 * that connects with recovery on; the adapter keeps a snapshot of that socket's session in
 * its store while it is connected, so a process that dies without persisting anything
 * (SIGKILL, out of memory, power loss) still leaves its sessions to recover.
 */
import type { SocketId } from "./adapter.js";

/** What only the namespace knows about a connected socket's session. */
export interface LiveSession {
  readonly sid: SocketId;
  /** The private session id the client presents to recover. */
  readonly pid: string;
  /** The newest stored offset when the socket connected. */
  readonly startOffset: string | undefined;
}

/** An adapter that keeps connected sockets' sessions outside the process. */
export interface SessionTracker {
  /**
   * A socket with recovery on connected (new or recovered). Its rooms and data are read from
   * the namespace port when the snapshot is written; the adapter follows its joins and
   * leaves, and forgets it when it disconnects.
   */
  trackSession(session: LiveSession): void;
}

/**
 * Follows a cluster adapter's local sockets' rooms (`LiveSessions` is one: a join or leave
 * makes a snapshot due); see `ClusterAdapter.roomWatcher`.
 */
export interface RoomWatcher {
  /** A socket joined or left rooms. */
  touch(id: SocketId): void;
  /** A socket left all its rooms: it disconnected. */
  left(id: SocketId): void;
}

/** Whether `adapter` keeps live sessions. */
export function isSessionTracker(adapter: object): adapter is SessionTracker {
  return typeof (adapter as Partial<SessionTracker>).trackSession === "function";
}
