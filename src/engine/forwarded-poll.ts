/**
 * Polling without sticky sessions. A load balancer that spreads requests round-robin sends
 * a session's GETs and POSTs to any node; the node that receives one for a session it does
 * not hold hands it to a {@link SessionRouter}, which carries it to the node that does (the
 * Socket.IO layer routes it through the cluster adapter). There the request is served by
 * the session's own polling transport, through the small request/response objects below,
 * and the reply travels back to be written to the client.
 *
 * ```
 *  client ──GET──► node B (no such session) ──router──► node A: session's PollingTransport
 *  client ◄─200─── node B ◄──────────── reply {status, headers, body} ◄───────┘
 * ```
 *
 * The transport sees the same request and response it would over plain HTTP: the polling
 * code is one path for both. When the client goes away from node B before the reply (or the
 * router gives up), the forwarded response closes on node A exactly like a client that
 * closed its GET, so the session ends as it would without a balancer.
 */
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from "node:http";
import { createDebug } from "./debug.js";
import { EngineErrorCode, writeHttpError } from "./errors.js";

const debug = createDebug("switchboard:engine:forward");

/** What the polling transport reads of an HTTP request (an `IncomingMessage` satisfies it). */
export interface PollRequest {
  readonly method?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  on(event: "data", listener: (chunk: Buffer) => void): this;
  on(event: "end", listener: () => void): this;
  off(event: "data", listener: (chunk: Buffer) => void): this;
  off(event: "end", listener: () => void): this;
  pause(): this;
  destroy(): this;
}

/** What the polling transport writes to an HTTP response (a `ServerResponse` satisfies it). */
export interface PollResponse {
  readonly destroyed: boolean;
  readonly headersSent: boolean;
  writeHead(statusCode: number, headers: OutgoingHttpHeaders): this;
  end(chunk?: string | Buffer, callback?: () => void): this;
  on(event: "close", listener: () => void): this;
}

/** A polling request as it travels to the node that holds its session. */
export interface ForwardedPoll {
  readonly method: "GET" | "POST";
  /** The POST body, as received (up to `maxHttpBufferSize` + 1 bytes). */
  readonly body?: Uint8Array | undefined;
  /** The POST body's size as the client declared or sent it, for the size limit. */
  readonly contentLength?: number | undefined;
  /** The client's `Accept-Encoding`, for HTTP compression of the reply. */
  readonly acceptEncoding?: string | undefined;
}

/** The answer to a {@link ForwardedPoll}, written as it is to the client. */
export interface ForwardedPollReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: Uint8Array;
}

/**
 * Carries polling requests for sessions this server does not hold to the node that does.
 * Set with `EngineServer#setSessionRouter`.
 */
export interface SessionRouter {
  /** Whether another live node holds session `sid`. */
  canForward(sid: string): boolean;
  /**
   * Serves `poll` on the node holding `sid` and resolves with its reply. `signal` aborts
   * when the client went away (the holder then ends the request as a closed GET). Rejects
   * when that node is gone or does not answer in time.
   */
  forward(sid: string, poll: ForwardedPoll, signal: AbortSignal): Promise<ForwardedPollReply>;
}

/** A forwarded poll, seen by the polling transport as an HTTP request. */
export class ForwardedRequest extends EventEmitter implements PollRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly #body: Uint8Array | undefined;

  constructor(poll: ForwardedPoll) {
    super();
    this.method = poll.method;
    this.headers = {};
    if (poll.acceptEncoding !== undefined) this.headers["accept-encoding"] = poll.acceptEncoding;
    this.#body = poll.body;
    if (poll.method === "POST") {
      this.headers["content-length"] = String(poll.contentLength ?? poll.body?.length ?? 0);
      // The transport subscribes synchronously; the body arrives on the next tick, as a stream's would.
      process.nextTick(() => this.#emitBody());
    }
  }

  pause(): this {
    return this;
  }

  destroy(): this {
    this.removeAllListeners();
    return this;
  }

  #emitBody(): void {
    const body = this.#body;
    if (body !== undefined && body.length > 0) {
      this.emit("data", Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    }
    this.emit("end");
  }
}

/**
 * The response to a forwarded poll: what the transport writes becomes {@link reply}. It
 * closes (as a client closing its GET would) when `signal` aborts before the reply.
 */
export class ForwardedResponse extends EventEmitter implements PollResponse {
  /** Resolves with what the transport wrote, once it called `end()`. */
  readonly reply: Promise<ForwardedPollReply>;
  #status = 200;
  #headers: Record<string, string | number> = {};
  #isEnded = false;
  #isDestroyed = false;
  #resolve: (reply: ForwardedPollReply) => void = () => {};
  #reject: (error: Error) => void = () => {};

  constructor(signal: AbortSignal | undefined) {
    super();
    this.reply = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (signal === undefined) return;
    if (signal.aborted) queueMicrotask(() => this.#abort());
    else signal.addEventListener("abort", () => this.#abort(), { once: true });
  }

  get destroyed(): boolean {
    return this.#isDestroyed;
  }

  get headersSent(): boolean {
    return this.#isEnded;
  }

  writeHead(statusCode: number, headers: OutgoingHttpHeaders): this {
    this.#status = statusCode;
    const flat: Record<string, string | number> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === "string" || typeof value === "number") flat[name] = value;
      else if (Array.isArray(value)) flat[name] = value.join(", ");
    }
    this.#headers = flat;
    return this;
  }

  end(chunk?: string | Buffer, callback?: () => void): this {
    if (this.#isEnded || this.#isDestroyed) return this;
    this.#isEnded = true;
    const body =
      chunk === undefined ? EMPTY : typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.#resolve({ status: this.#status, headers: this.#headers, body });
    // Handed to the router: as far as this node can know, written.
    if (callback !== undefined) queueMicrotask(callback);
    return this;
  }

  #abort(): void {
    if (this.#isEnded || this.#isDestroyed) return;
    this.#isDestroyed = true;
    this.#reject(new Error("the forwarded poll was aborted"));
    this.emit("close");
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Carries one polling request to the node holding its session and writes the reply. A POST
 * body is read here first, up to one byte over the limit: the holder refuses it with 413
 * and closes the session, as it would a direct POST. A GET the client abandons aborts the
 * forwarded one. Holder gone or silent: 400 "Session ID unknown", so the client reconnects.
 */
export function forwardPoll(
  req: IncomingMessage,
  res: ServerResponse,
  sid: string,
  router: SessionRouter,
  maxBody: number,
): void {
  const method = req.method;
  if (method !== "GET" && method !== "POST") {
    writeHttpError(res, EngineErrorCode.BAD_REQUEST);
    return;
  }
  const abort = new AbortController();
  const acceptEncoding = req.headers["accept-encoding"];
  const send = (body?: Buffer, contentLength?: number): void => {
    const poll: ForwardedPoll = { method, body, contentLength, acceptEncoding };
    router.forward(sid, poll, abort.signal).then(
      (reply) => {
        if (res.destroyed) return;
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body);
      },
      (err: unknown) => {
        debug("forwarding %s for %s failed: %s", method, sid, String(err));
        if (!res.destroyed) writeHttpError(res, EngineErrorCode.UNKNOWN_SID);
      },
    );
  };
  res.on("close", () => {
    if (!res.writableFinished) abort.abort();
  });
  if (method === "GET") {
    send();
    return;
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBody) {
    req.pause();
    send(undefined, declared);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size <= maxBody) chunks.push(chunk);
    else {
      req.off("data", onData).off("end", onEnd).pause();
      send(undefined, size);
    }
  };
  const onEnd = (): void => send(Buffer.concat(chunks, size), size);
  req.on("data", onData).on("end", onEnd);
}
