/**
 * `SessionClaims`: what keeps a session alive in Redis while a node restores it. A restore
 * takes the session with GETDEL, and until that node writes its copy back (a moment later,
 * see `admitTaken`), the session is only in that process: a crash then would lose it. So,
 * in the same pipeline just before the GETDEL, a claim copies the session aside with the
 * node's uid, atomically (a Lua script), and the node releases it once its copy is written.
 *
 * ```
 *   claim:   EVAL (claimant absent and session present) ─> <key>:claim = session, <key>:claimant = uid
 *   restore: GETDEL <key> ... SET <key> copy ─> release: EVAL (claimant is uid) ─> DEL both
 *   <key> gone, claim of a node that died ─> RENAME <key>:claim <key> ─> restore it as usual
 * ```
 */
import type { RedisStreamsClient } from "./stream-reader.js";

const CLAIM = `if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('SET', KEYS[2], v, 'PX', ARGV[2])
redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
return 1`;

const RELEASE = `if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[1], KEYS[2]) end
return 0`;

/** Claims on the sessions this node restores. */
export class SessionClaims {
  readonly #client: RedisStreamsClient;
  readonly #prefix: string;
  readonly #node: string;
  readonly #ttl: string;

  constructor(client: RedisStreamsClient, prefix: string, node: string, ttl: number) {
    this.#client = client;
    this.#prefix = prefix;
    this.#node = node;
    this.#ttl = String(Math.max(1, Math.ceil(ttl)));
  }

  /** Claims the session of `pid`: call it right before the command that takes the session. */
  claim(pid: string): Promise<unknown> {
    const key = this.#prefix + pid;
    const keys = [key, `${key}:claim`, `${key}:claimant`];
    return this.#client.sendCommand(["EVAL", CLAIM, "3", ...keys, this.#node, this.#ttl]);
  }

  /** Drops this node's claim on `pid` (after its copy of the session was written, or not taken). */
  release(pid: string): Promise<unknown> {
    const key = this.#prefix + pid;
    const keys = [`${key}:claim`, `${key}:claimant`];
    return this.#client.sendCommand(["EVAL", RELEASE, "2", ...keys, this.#node]);
  }

  /** The node that claimed `pid` and has not released it, if any. */
  async claimant(pid: string): Promise<string | undefined> {
    const node = await this.#client.sendCommand(["GET", `${this.#prefix}${pid}:claimant`]);
    return typeof node === "string" ? node : undefined;
  }

  /**
   * Puts the session a node that died had claimed back in place, to be restored as usual.
   * False when there is none (another node took it first).
   */
  async reinstate(pid: string): Promise<boolean> {
    const key = this.#prefix + pid;
    try {
      await this.#client.sendCommand(["RENAME", `${key}:claim`, key]);
    } catch {
      return false;
    }
    await this.#client.sendCommand(["DEL", `${key}:claimant`]);
    return true;
  }
}
