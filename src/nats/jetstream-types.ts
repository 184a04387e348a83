/**
 * The parts of nats.js v3 JetStream (`@nats-io/jetstream`: `jetstream(nc)` and
 * `await jetstreamManager(nc)`) the JetStream mode uses. Declared here so that
 * `switchboard/nats` does not depend on the client's types or load it at run time.
 */

/** A message read from a stream by a consumer. */
export interface JetStreamMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  /** `pending`: how many messages matching the consumer are left after this one. */
  readonly info: { readonly pending: number };
}

/** What `consumer.consume()` resolves to: the messages, in stream order, until closed. */
export interface JetStreamMessages extends AsyncIterable<JetStreamMessage> {
  close(): Promise<unknown>;
}

/** An ordered consumer (ephemeral, in order, recreated by the client after a gap). */
export interface JetStreamConsumer {
  info(): Promise<{ readonly num_pending: number }>;
  consume(): Promise<JetStreamMessages>;
  delete(): Promise<boolean>;
}

/** Where an ordered consumer starts. */
export interface OrderedConsumerStart {
  readonly filter_subjects: string;
  readonly deliver_policy: "by_start_sequence";
  readonly opt_start_seq: number;
}

/** `jetstream(nc)`: publishing into streams and reading them. */
export interface JetStreamClient {
  publish(subject: string, payload: Uint8Array): Promise<{ readonly seq: number }>;
  readonly consumers: {
    get(stream: string, opts: OrderedConsumerStart): Promise<JetStreamConsumer>;
  };
}

/** A stream's configuration, as far as the JetStream mode sets it. */
export interface StreamSettings {
  readonly name: string;
  readonly subjects: string[];
  readonly storage: "file" | "memory";
  readonly max_msgs?: number;
  /** Nanoseconds. */
  readonly max_age?: number;
  readonly max_msgs_per_subject?: number;
}

/** A message fetched by sequence or by subject. */
export interface StoredStreamMessage {
  readonly seq: number;
  readonly data: Uint8Array;
}

/** `await jetstreamManager(nc)`: stream administration and direct reads. */
export interface JetStreamManager {
  readonly streams: {
    info(name: string): Promise<{
      readonly state: { readonly first_seq: number; readonly last_seq: number };
    }>;
    add(config: StreamSettings): Promise<unknown>;
    getMessage(
      stream: string,
      query: { seq: number } | { last_by_subj: string },
    ): Promise<StoredStreamMessage | null>;
    deleteMessage(stream: string, seq: number): Promise<boolean>;
  };
}
