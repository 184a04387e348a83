/**
 * Requests to ONE node of a cluster and their answers (NODE_REQUEST / NODE_RESPONSE /
 * NODE_ABORT), for {@link ClusterAdapter}'s {@link NodeChannel} capability. Both sides live
 * here: the requests this node waits on, and the ones it is serving for others.
 *
 * ```
 *  requester                              holder
 *  request() ──NODE_REQUEST──────────────► handler(body, signal)
 *     ▲      ◄─NODE_RESPONSE {body|error}─┘
 *     └─ signal aborted / timeout ──NODE_ABORT──► signal aborts
 *  holder gone (heartbeat, ADAPTER_CLOSE, broker down): rejects at once
 * ```
 */
import { AdapterError, ErrorCode, TimeoutError } from "../errors.js";
import type { NodeRequestHandler } from "./adapter.js";
import {
  ClusterMessageType,
  type NodeMessage,
  type TargetedMessage,
  type Unsent,
} from "./cluster-message.js";

type NodeResponse = Extract<TargetedMessage, { type: 101 }>;

/** Publishes a message to one node's own channel; rejects when the broker is down. */
export type SendToNode = (uid: string, message: Unsent<TargetedMessage>) => Promise<void>;

interface Pending {
  readonly uid: string;
  readonly resolve: (body: unknown) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

/** The node requests of one adapter, in both directions. */
export class NodeRequests {
  readonly #send: SendToNode;
  readonly #pending = new Map<string, Pending>();
  /** Requests being served for other nodes, by `<uid> <requestId>`. */
  readonly #serving = new Map<string, AbortController>();
  #handler: NodeRequestHandler | undefined;
  #nextId = 0;
  readonly #idPrefix: string;

  constructor(uid: string, send: SendToNode) {
    this.#send = send;
    this.#idPrefix = `${uid}-`;
  }

  /** Sets (or with undefined, removes) what answers other nodes' requests. */
  setHandler(handler: NodeRequestHandler | undefined): void {
    this.#handler = handler;
  }

  /** Sends `body` to node `uid`; see `NodeChannel.requestNode`. */
  request(uid: string, body: unknown, timeout: number, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(aborted());
    const requestId = `${this.#idPrefix}${(this.#nextId++).toString(36)}`;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.#giveUp(requestId, aborted());
      const timer = setTimeout(() => {
        const reason = `node ${uid} did not answer within ${timeout} ms`;
        this.#giveUp(requestId, new TimeoutError(ErrorCode.ACK_TIMEOUT, reason));
      }, timeout);
      timer.unref?.();
      signal?.addEventListener("abort", onAbort, { once: true });
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      this.#pending.set(requestId, { uid, resolve, reject, cleanup });
      this.#send(uid, { type: ClusterMessageType.NODE_REQUEST, data: { requestId, body } }).catch(
        (error: unknown) => this.#settle(requestId, asError(error)),
      );
    });
  }

  /** Handles a NODE_REQUEST, NODE_ABORT or NODE_RESPONSE from node `message.uid`. */
  onMessage(message: NodeMessage | NodeResponse): void {
    switch (message.type) {
      case ClusterMessageType.NODE_RESPONSE: {
        const { requestId, error, body } = message.data;
        const entry = this.#pending.get(requestId);
        if (entry === undefined || entry.uid !== message.uid) return; // late, or not ours
        this.#settle(
          requestId,
          error === undefined ? undefined : new AdapterError(ErrorCode.ADAPTER_ERROR, error),
          body,
        );
        return;
      }
      case ClusterMessageType.NODE_ABORT:
        this.#serving.get(`${message.uid} ${message.data.requestId}`)?.abort();
        return;
      case ClusterMessageType.NODE_REQUEST:
        this.#serve(message.uid, message.data.requestId, message.data.body);
        return;
    }
  }

  /** Node `uid` is gone: its requests fail at once, and what it asked for is abandoned. */
  onNodeGone(uid: string): void {
    for (const [requestId, entry] of [...this.#pending]) {
      if (entry.uid === uid) {
        this.#settle(requestId, new AdapterError(ErrorCode.ADAPTER_ERROR, `node ${uid} is gone`));
      }
    }
    const prefix = `${uid} `;
    for (const [key, controller] of [...this.#serving]) {
      if (key.startsWith(prefix)) controller.abort();
    }
  }

  /** The adapter closes: everything pending fails, everything served is abandoned. */
  close(): void {
    for (const requestId of [...this.#pending.keys()]) {
      this.#settle(requestId, new AdapterError(ErrorCode.ADAPTER_ERROR, "the adapter closed"));
    }
    for (const controller of [...this.#serving.values()]) controller.abort();
  }

  #serve(uid: string, requestId: string, body: unknown): void {
    const handler = this.#handler;
    const reply = (data: { body?: unknown; error?: string }): void => {
      this.#send(uid, {
        type: ClusterMessageType.NODE_RESPONSE,
        data: { requestId, ...data },
      }).catch(
        () => {}, // the requester times out, or learns this node is gone
      );
    };
    if (handler === undefined) {
      reply({ error: "this node serves no node requests" });
      return;
    }
    const key = `${uid} ${requestId}`;
    const controller = new AbortController();
    const signal = controller.signal;
    this.#serving.set(key, controller);
    signal.addEventListener("abort", () => this.#serving.delete(key), { once: true });
    const settle = (data: { body?: unknown; error?: string }): void => {
      this.#serving.delete(key);
      if (!signal.aborted) reply(data);
    };
    handler(body, signal).then(
      (answer) => settle({ body: answer }),
      (error: unknown) => settle({ error: asError(error).message }),
    );
  }

  /** The requester stops waiting: reject, and tell the node so it stops serving. */
  #giveUp(requestId: string, error: Error): void {
    const entry = this.#pending.get(requestId);
    if (entry === undefined) return;
    this.#settle(requestId, error);
    this.#send(entry.uid, { type: ClusterMessageType.NODE_ABORT, data: { requestId } }).catch(
      () => {}, // the node learns from the broker or its own timeout instead
    );
  }

  #settle(requestId: string, error: Error | undefined, body?: unknown): void {
    const entry = this.#pending.get(requestId);
    if (entry === undefined) return;
    this.#pending.delete(requestId);
    entry.cleanup();
    if (error === undefined) entry.resolve(body);
    else entry.reject(error);
  }
}

function aborted(): AdapterError {
  return new AdapterError(ErrorCode.ADAPTER_ERROR, "the node request was aborted");
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
