/**
 * The recovery store of the JetStream mode: two streams.
 * ```
 *   <stream>            <prefix>.stream.<nsp>.m  cluster messages (requests, heartbeats...)
 *                       <prefix>.stream.<nsp>.s  stored broadcasts (offset = stream sequence)
 *                       <prefix>.stream.<nsp>.l  stored broadcasts only their node delivers
 *   <stream>_SESSIONS   <prefix>.session.<pid>   sessions, one per subject, max age = TTL
 * ```
 * Both streams are bounded by limits (`max_msgs`, `max_age`): JetStream drops the oldest
 * messages, so a client whose offset precedes the stream's first sequence cannot be
 * recovered, and is told so.
 */
import type { Room } from "../adapter/adapter.js";
import { ClusterMessageType, decodeClusterMessage } from "../adapter/cluster-message.js";
import {
  decodeSession,
  encodeSession,
  isForRooms,
  type StoredSession,
} from "../adapter/session-codec.js";
import type { JetStreamClient, JetStreamManager, JetStreamMessages } from "./jetstream-types.js";

const NS_PER_MS = 1_000_000;

/** Settings of the store. */
export interface JetStreamStoreOptions {
  readonly stream: string;
  /** `<prefix>.stream.<nsp>`: this namespace's subjects add `.m`, `.s` or `.l`. */
  readonly base: string;
  readonly prefix: string;
  readonly maxLen: number;
  readonly storage: "file" | "memory";
  /** `maxDisconnectionDuration`, in ms: the sessions' and the packets' max age. */
  readonly ttl: number;
  /** How long reading a session's missed packets may take, in ms. */
  readonly readTimeoutMs: number;
}

/** Stored broadcasts and sessions in JetStream, for one namespace. */
export class JetStreamStore {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #options: JetStreamStoreOptions;

  constructor(js: JetStreamClient, jsm: JetStreamManager, options: JetStreamStoreOptions) {
    this.#js = js;
    this.#jsm = jsm;
    this.#options = options;
  }

  /** The messages stream's name. */
  get streamName(): string {
    return this.#options.stream;
  }

  get #sessions(): string {
    return `${this.#options.stream}_SESSIONS`;
  }

  /** Creates both streams if they do not exist; resolves with the last sequence. */
  async open(): Promise<number> {
    const { stream, prefix, maxLen, storage, ttl } = this.#options;
    const maxAge = Math.ceil(ttl) * NS_PER_MS;
    await this.#ensure({
      name: stream,
      subjects: [`${prefix}.stream.>`],
      storage,
      max_msgs: maxLen,
      max_age: maxAge,
    });
    await this.#ensure({
      name: this.#sessions,
      subjects: [`${prefix}.session.*`],
      storage,
      max_age: maxAge,
      max_msgs_per_subject: 1,
    });
    return (await this.#jsm.streams.info(stream)).state.last_seq;
  }

  /** Keeps a session until its max age. */
  async persist(session: StoredSession): Promise<void> {
    await this.#js.publish(
      `${this.#options.prefix}.session.${session.pid}`,
      encodeSession(session),
    );
  }

  /** Takes a session out of the store: at most once, whoever asks (the delete decides). */
  async take(pid: string): Promise<StoredSession | undefined> {
    const subject = `${this.#options.prefix}.session.${pid}`;
    const found = await this.#jsm.streams.getMessage(this.#sessions, { last_by_subj: subject });
    if (found === null) return undefined;
    const isMine = await this.#jsm.streams
      .deleteMessage(this.#sessions, found.seq)
      .catch(() => false);
    if (!isMine) return undefined;
    const session = decodeSession(found.data);
    return session?.pid === pid ? session : undefined;
  }

  /**
   * The stream's last sequence, when every message after `from` is still in the stream (and
   * `from` was real); undefined when some are gone.
   */
  async intactEnd(from: number): Promise<number | undefined> {
    const { first_seq, last_seq } = (await this.#jsm.streams.info(this.#options.stream)).state;
    return from <= last_seq && first_seq <= from + 1 ? last_seq : undefined;
  }

  /**
   * The EVENT payloads of the stored broadcasts for a session in `(from, upTo]`, each with
   * its offset; undefined when they could not all be read in time.
   */
  async readMissed(
    from: number,
    upTo: number,
    session: StoredSession,
  ): Promise<unknown[][] | undefined> {
    if (upTo <= from) return [];
    const consumer = await this.#js.consumers.get(this.#options.stream, {
      filter_subjects: `${this.#options.base}.*`,
      deliver_policy: "by_start_sequence",
      opt_start_seq: from + 1,
    });
    if ((await consumer.info()).num_pending === 0) return [];
    const messages = await consumer.consume();
    const timer = setTimeout(() => void messages.close(), this.#options.readTimeoutMs);
    try {
      return await collect(messages, upTo, session);
    } finally {
      clearTimeout(timer);
      void messages.close();
      consumer.delete().catch(() => {}); // ordered consumers are ephemeral anyway
    }
  }

  async #ensure(config: Parameters<JetStreamManager["streams"]["add"]>[0]): Promise<void> {
    try {
      await this.#jsm.streams.info(config.name);
    } catch {
      // Not there: create it (another node may win the race, which is just as good).
      await this.#jsm.streams.add(config).catch(() => this.#jsm.streams.info(config.name));
    }
  }
}

/** Reads messages up to `upTo` (or until none is left), keeping the session's broadcasts. */
async function collect(
  messages: JetStreamMessages,
  upTo: number,
  session: StoredSession,
): Promise<unknown[][] | undefined> {
  const rooms = new Set<Room>(session.rooms);
  const missed: unknown[][] = [];
  for await (const m of messages) {
    if (m.seq > upTo) return missed;
    const kind = m.subject.slice(m.subject.lastIndexOf(".") + 1);
    if (kind === "s" || kind === "l") {
      const decoded = decodeClusterMessage(m.data);
      const message = decoded.ok ? decoded.value : undefined;
      const isVisible = kind === "s" || message?.uid === session.node;
      if (message?.type === ClusterMessageType.BROADCAST && isVisible) {
        const { packet, opts } = message.data;
        if (isForRooms(rooms, opts)) missed.push([...packet.data, String(m.seq)]);
      }
    }
    if (m.seq >= upTo || m.info.pending === 0) return missed;
  }
  return undefined; // closed by the timeout before reaching upTo
}
