/**
 * The read side of the Redis Streams mode: one blocking `XREAD` loop per Redis client
 * passed to `createRedisStreamsAdapter`, on a connection of its own, shared by every
 * namespace of the server. Entries are handed to the namespace they name, in stream order,
 * so every node delivers stored packets in the same order and each packet's offset is its
 * entry id.
 *
 * ```
 *   idle ──start()──> opening ──(tail id known)──> reading ──stop()──> idle
 *                                                   │   ^
 *                                        XREAD fails│   │retry after 100 ms (queued by
 *                                                   v   │ the client until Redis is back)
 *                                                  failing
 * ```
 * After an outage the loop resumes from the last id it read, so a node catches up on
 * everything written meanwhile (as long as it was not trimmed).
 */
import { AdapterError, ErrorCode } from "../errors.js";
import type { RedisClient } from "./redis-adapter.js";
import {
  compareStreamIds,
  MARKER_TYPE,
  parseXRangeReply,
  parseXReadReply,
  type RawStreamEntry,
} from "./stream-codec.js";

/**
 * The parts of a node-redis (v4+) client the Streams mode uses, on top of pub/sub. Declared
 * here so that `switchboard/redis` does not depend on the client's types.
 */
export interface RedisStreamsClient extends RedisClient {
  readonly isOpen: boolean;
  sendCommand(args: readonly (string | Buffer)[], options?: object): Promise<unknown>;
  duplicate(): RedisStreamsClient;
  connect(): Promise<unknown>;
  disconnect(): Promise<unknown>;
}

/**
 * Command options asking node-redis for Buffers instead of strings (v5+: `typeMapping` of
 * RESP blob strings, `$` = 36; v4: `returnBuffers`), so binary fields arrive intact.
 */
export const AS_BUFFERS = { typeMapping: { 36: Buffer }, returnBuffers: true } as const;

const RETRY_MS = 100;

/** Settings of a reader. */
export interface StreamReaderOptions {
  readonly key: string;
  /** Trim bound passed with the marker entry (`MAXLEN ~`). */
  readonly maxLen: number;
  /** How long one XREAD blocks, in ms. */
  readonly blockMs: number;
  /** Most entries per XREAD. */
  readonly count: number;
  readonly onError: (error: AdapterError) => void;
}

interface Waiter {
  readonly id: string;
  readonly resolve: (isReached: boolean) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** A blocking read loop over one stream, dispatching entries by namespace. */
export class StreamReader {
  readonly #source: RedisStreamsClient;
  readonly #options: StreamReaderOptions;
  readonly #handlers = new Map<string, (entry: RawStreamEntry) => void>();
  #client: RedisStreamsClient | undefined;
  #lastId: string | undefined;
  #waiters: Waiter[] = [];
  #isRunning = false;
  #isFailing = false;

  constructor(source: RedisStreamsClient, options: StreamReaderOptions) {
    this.#source = source;
    this.#options = options;
  }

  /** The id of the last entry read (every earlier one has been dispatched), once started. */
  get lastId(): string | undefined {
    return this.#lastId;
  }

  /** Routes the entries naming namespace `nsp` to `handler`; returns the unsubscribe function. */
  register(nsp: string, handler: (entry: RawStreamEntry) => void): () => void {
    this.#handlers.set(nsp, handler);
    return () => {
      if (this.#handlers.get(nsp) === handler) this.#handlers.delete(nsp);
    };
  }

  /** Opens the reader's own connection, finds where the stream ends and starts reading there. */
  async start(): Promise<void> {
    const client = this.#source.duplicate();
    client.on("error", () => {}); // reported by the loop, once per outage
    this.#client = client;
    await client.connect();
    this.#lastId = await this.#tail(client);
    this.#isRunning = true;
    void this.#loop(client);
  }

  /** Stops reading and closes the reader's connection (which ends a blocked XREAD). */
  async stop(): Promise<void> {
    this.#isRunning = false;
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    const client = this.#client;
    this.#client = undefined;
    if (client?.isOpen === true) await client.disconnect().catch(() => {});
  }

  /** Resolves true once entry `id` has been read, false after `ms` or when the reader stops. */
  waitFor(id: string, ms: number): Promise<boolean> {
    if (this.#lastId !== undefined && compareStreamIds(this.#lastId, id) >= 0) {
      return Promise.resolve(true);
    }
    if (!this.#isRunning) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.timer !== timer);
        resolve(false);
      }, ms);
      this.#waiters.push({ id, resolve, timer });
    });
  }

  /** The newest entry's id; an empty stream first gets a marker entry, so an id exists. */
  async #tail(client: RedisStreamsClient): Promise<string> {
    const { key, maxLen } = this.#options;
    const newest = parseXRangeReply(
      await client.sendCommand(["XREVRANGE", key, "+", "-", "COUNT", "1"], AS_BUFFERS),
    );
    if (newest[0] !== undefined) return newest[0].id;
    const args = ["XADD", key, "MAXLEN", "~", String(maxLen), "*", "type", MARKER_TYPE];
    return String(await client.sendCommand(args));
  }

  async #loop(client: RedisStreamsClient): Promise<void> {
    const { key, blockMs, count } = this.#options;
    while (this.#isRunning && this.#client === client) {
      let reply: unknown;
      try {
        const from = this.#lastId ?? "$";
        const args = [
          "XREAD",
          "BLOCK",
          String(blockMs),
          "COUNT",
          String(count),
          "STREAMS",
          key,
          from,
        ];
        reply = await client.sendCommand(args, AS_BUFFERS);
        this.#isFailing = false;
      } catch (err) {
        if (!this.#isRunning) return;
        this.#reportOnce(err);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        continue;
      }
      if (this.#client !== client) return;
      for (const entry of parseXReadReply(reply)) this.#dispatch(entry);
      this.#wakeWaiters();
    }
  }

  #dispatch(entry: RawStreamEntry): void {
    this.#lastId = entry.id;
    const nsp = entry.fields.get("nsp")?.toString();
    const handler = nsp === undefined ? undefined : this.#handlers.get(nsp);
    if (handler === undefined) return;
    try {
      handler(entry);
    } catch (err) {
      // One entry's failure must not stop the loop (and with it every later delivery).
      this.#options.onError(
        new AdapterError(ErrorCode.ADAPTER_ERROR, `stream entry ${entry.id}: ${String(err)}`, {
          cause: err,
        }),
      );
    }
  }

  #wakeWaiters(): void {
    const lastId = this.#lastId;
    if (lastId === undefined || this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => {
      if (compareStreamIds(lastId, waiter.id) < 0) return true;
      clearTimeout(waiter.timer);
      waiter.resolve(true);
      return false;
    });
  }

  #reportOnce(err: unknown): void {
    if (this.#isFailing) return;
    this.#isFailing = true;
    const reason = err instanceof Error ? err.message : String(err);
    this.#options.onError(
      new AdapterError(ErrorCode.ADAPTER_ERROR, `redis stream read failed: ${reason}`, {
        cause: err,
      }),
    );
  }
}
