/**
 * What the namespaces of one server share in the Redis Streams mode: the pub/sub subscriber
 * and the stream reader.
 */
import type { RedisStreamsAdapterOptions } from "./redis-streams-adapter.js";
import { type RedisStreamsClient, StreamReader } from "./stream-reader.js";

/** How long one XREAD blocks before it is sent again. */
const BLOCK_MS = 5000;

/**
 * The connections the namespaces of one server share: the pub/sub subscriber and the
 * stream reader. Opened by the first adapter's `init`, closed with the last adapter.
 */
export class StreamLinks {
  readonly sub: RedisStreamsClient;
  readonly reader: StreamReader;
  #refs = 0;
  #opened: Promise<void> | undefined;
  #isReleased = false;

  constructor(client: RedisStreamsClient, opts: RedisStreamsAdapterOptions) {
    this.sub = client.duplicate();
    this.sub.on("error", () => {}); // adapters listen and report once subscribed
    this.reader = new StreamReader(client, {
      key: opts.streamName ?? "switchboard:stream",
      maxLen: opts.maxLen ?? 10_000,
      blockMs: BLOCK_MS,
      count: opts.readCount ?? 100,
      onError: opts.onError ?? ((error) => console.warn(`switchboard adapter: ${error.message}`)),
    });
  }

  /** True once the last adapter let go: a new server needs new links. */
  get isReleased(): boolean {
    return this.#isReleased;
  }

  /** Counts one more adapter. */
  retain(): void {
    this.#refs++;
  }

  /** Connects the subscriber and starts the reader (once). */
  open(): Promise<void> {
    this.#opened ??= Promise.all([this.sub.connect(), this.reader.start()]).then(() => {});
    return this.#opened;
  }

  /** Counts one adapter less; the last one closes the connections. */
  async release(): Promise<void> {
    if (--this.#refs > 0 || this.#isReleased) return;
    this.#isReleased = true;
    await this.reader.stop();
    if (this.sub.isOpen) await this.sub.disconnect().catch(() => {});
  }
}
