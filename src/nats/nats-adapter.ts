/**
 * `NatsAdapter`: a {@link ClusterAdapter} over NATS core pub/sub, with the same semantics
 * as the Redis adapter. Every message of a namespace goes to one subject, and responses go
 * to the requesting node's own subject:
 * ```
 *   <prefix>.<nsp>          broadcasts, requests, heartbeats (MessagePack cluster messages)
 *   <prefix>.<nsp>.<uid>    responses for node <uid>
 * ```
 * `<nsp>` is the namespace name with every character NATS reserves in a subject token
 * (`.`, `*`, `>`, whitespace, and `%` itself) percent-encoded: `/` stays `/`, `/a.b` is
 * `/a%2Eb`.
 *
 * nats.js reconnects and resubscribes by itself and buffers publishes while disconnected;
 * the adapter follows the connection's status events instead, fails fast while it is down,
 * and announces its node again when it is back.
 */
import type { AdapterConstructor, NamespacePort } from "../adapter/adapter.js";
import { ClusterAdapter, type ClusterAdapterOptions } from "../adapter/cluster-adapter.js";
import {
  type ClusterMessage,
  encodeClusterMessage,
  type TargetedMessage,
} from "../adapter/cluster-message.js";
import { AdapterError, ErrorCode } from "../errors.js";

/** A received NATS message: the parts the adapter reads. */
export interface NatsMessage {
  readonly data: Uint8Array;
}

/**
 * The parts of a nats.js v3 `NatsConnection` (from `@nats-io/transport-node`) the adapter
 * uses. Declared here so that `switchboard/nats` does not depend on the client's types.
 */
export interface NatsConnection {
  publish(subject: string, payload: Uint8Array): void;
  subscribe(
    subject: string,
    opts: { callback: (err: Error | null, msg: NatsMessage) => void },
  ): { unsubscribe(): void };
  status(): AsyncIterable<{ readonly type: string }>;
  isClosed(): boolean;
}

/** Options of the NATS adapter. */
export interface NatsAdapterOptions extends ClusterAdapterOptions {
  /** The first subject token(s). Default `"switchboard"`. */
  readonly prefix?: string;
}

/**
 * Builds the `adapter` server option for a NATS cluster.
 * @example
 * import { connect } from "@nats-io/transport-node";
 * import { Server } from "switchboard";
 * import { createNatsAdapter } from "switchboard/nats";
 *
 * const nc = await connect({ servers: "nats://localhost:4222", maxReconnectAttempts: -1 });
 * const io = new Server(3000, { adapter: createNatsAdapter(nc) });
 */
export function createNatsAdapter(
  nc: NatsConnection,
  opts: NatsAdapterOptions = {},
): AdapterConstructor {
  return (port) => new NatsAdapter(port, nc, opts);
}

/** A cluster adapter over NATS subjects. */
export class NatsAdapter extends ClusterAdapter {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  #subscriptions: { unsubscribe(): void }[] = [];
  #isUp = true;
  #isWatching = false;

  constructor(port: NamespacePort, nc: NatsConnection, opts: NatsAdapterOptions = {}) {
    super(port, opts);
    this.#nc = nc;
    this.#subject = `${opts.prefix ?? "switchboard"}.${encodeSubjectToken(port.name)}`;
  }

  protected override subscribe(): Promise<void> {
    const callback = (err: Error | null, msg: NatsMessage): void => {
      if (err === null) this.onEncodedMessage(msg.data);
      else
        this.reportError(
          new AdapterError(ErrorCode.ADAPTER_ERROR, `nats: ${err.message}`, { cause: err }),
        );
    };
    this.#subscriptions = [
      this.#nc.subscribe(this.#subject, { callback }),
      this.#nc.subscribe(`${this.#subject}.${this.uid}`, { callback }),
    ];
    this.#watchStatus();
    return Promise.resolve();
  }

  protected override unsubscribe(): Promise<void> {
    this.#isWatching = false;
    if (!this.#nc.isClosed()) for (const sub of this.#subscriptions) sub.unsubscribe();
    this.#subscriptions = [];
    return Promise.resolve();
  }

  protected override isConnected(): boolean {
    return this.#isUp && !this.#nc.isClosed();
  }

  protected override doPublish(message: ClusterMessage): Promise<void> {
    this.#nc.publish(this.#subject, encodeClusterMessage(message));
    return Promise.resolve();
  }

  protected override doPublishResponse(uid: string, message: TargetedMessage): Promise<void> {
    this.#nc.publish(`${this.#subject}.${uid}`, encodeClusterMessage(message));
    return Promise.resolve();
  }

  /** Follows the connection's status events until the adapter closes. */
  #watchStatus(): void {
    this.#isWatching = true;
    const watch = async (): Promise<void> => {
      for await (const status of this.#nc.status()) {
        if (!this.#isWatching) return;
        if (status.type === "disconnect" || status.type === "close") this.#isUp = false;
        else if (status.type === "reconnect") this.#isUp = true;
        else continue;
        this.checkConnection();
      }
    };
    watch().catch((err: unknown) =>
      this.reportError(
        new AdapterError(ErrorCode.ADAPTER_ERROR, `nats status: ${String(err)}`, { cause: err }),
      ),
    );
  }
}

/** Percent-encodes what a NATS subject token may not contain (and `%`). */
export function encodeSubjectToken(text: string): string {
  return text.replace(/[.*>%\s]/gu, (char) =>
    [...new TextEncoder().encode(char)]
      .map((b) => `%${b.toString(16).toUpperCase().padStart(2, "0")}`)
      .join(""),
  );
}
