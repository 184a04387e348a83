/** Connection-state recovery's session ids (pids), built from the socket id. */

const DOT = 0x2e;
// The length of a socket id (`randomId()`: 20 base64url characters).
const SOCKET_ID_LENGTH = 20;

/**
 * A recovery pid: the socket id followed by a random part of the same length. Memory per
 * connection: the namespace finds a connected socket by pid through its id (`sockets`),
 * with no map by pid, and a socket keeps only the random part. The random part keeps the
 * session private (socket ids are not secret). No separator: a pid is also a NATS subject
 * token and a Redis key part (src/nats/jetstream-store.ts), where "." splits subjects.
 */
export function sessionPid(id: string, tail: string): string {
  return id + tail;
}

/**
 * What a socket keeps of pid `pid` (see {@link sessionPid}): its random part, or for a pid
 * of another form (from an older version's store), the whole pid after ".".
 */
export function pidTail(id: string, pid: string): string {
  return pid.length > id.length && pid.startsWith(id) ? pid.slice(id.length) : `.${pid}`;
}

/** The socket id a pid of {@link sessionPid}'s form starts with, or undefined. */
export function pidSocketId(pid: string): string | undefined {
  return pid.length === 2 * SOCKET_ID_LENGTH ? pid.slice(0, SOCKET_ID_LENGTH) : undefined;
}

/** The pid a socket kept `tail` of (the inverse of {@link pidTail}). */
export function pidFromTail(id: string, tail: string): string {
  return tail.charCodeAt(0) === DOT ? tail.slice(1) : sessionPid(id, tail);
}
