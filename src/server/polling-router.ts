/**
 * No sticky sessions: the Socket.IO layer's side of polling through a round-robin load
 * balancer. When the main namespace's adapter spans several nodes (it offers a
 * {@link NodeChannel}), each Engine.IO session id starts with the id of the node that holds
 * it (`<node uid>.<random>`), so any node can tell where a polling request belongs and
 * forward it there through the adapter; the holder serves it with the session's own
 * polling transport (engine `forwarded-poll.ts`) and the reply comes back the same way.
 *
 * ```
 *  node B: engine ─SessionRouter─► requestNode(A, {poll}) ══ broker ══► node A: handler
 *                                                                        └► engine.handleForwardedPoll
 * ```
 * Wire body (MessagePack through the adapter): `{ sid, m, b?, n?, e? }` to the holder,
 * `{ s, h, b }` back. Both are checked: they come from the network.
 */
import type { NodeChannel } from "../adapter/adapter.js";
import { isRecord } from "../adapter/cluster-message.js";
import type {
  EngineServer,
  ForwardedPoll,
  ForwardedPollReply,
  SessionRouter,
} from "../engine/index.js";
import { randomId } from "../engine/index.js";

/** A node uid and the separator before the random part. */
const SEPARATOR = ".";

/** A new session id naming the node that holds it, or a plain random one without a channel. */
export function nodeSessionId(channel: NodeChannel | undefined): string {
  return channel === undefined ? randomId() : `${channel.uid}${SEPARATOR}${randomId()}`;
}

/** The uid of the node a session id names, if it names one. */
export function sessionNode(sid: string): string | undefined {
  const at = sid.indexOf(SEPARATOR);
  return at > 0 ? sid.slice(0, at) : undefined;
}

/**
 * Lets `engine` forward polling requests for other nodes' sessions through `channel`, and
 * serve the ones other nodes forward here. A forwarded GET waits at most one heartbeat
 * (the holder answers a pending GET with the next ping), so `timeout` is
 * `pingInterval + pingTimeout`.
 */
export function routePolling(engine: EngineServer, channel: NodeChannel): void {
  const timeout = engine.options.pingInterval + engine.options.pingTimeout;
  const router: SessionRouter = {
    canForward(sid) {
      const uid = sessionNode(sid);
      return uid !== undefined && uid !== channel.uid && channel.isLiveNode(uid);
    },
    async forward(sid, poll, signal) {
      const uid = sessionNode(sid) ?? "";
      const body = {
        sid,
        m: poll.method,
        b: poll.body,
        n: poll.contentLength,
        e: poll.acceptEncoding,
      };
      const reply = parseReply(await channel.requestNode(uid, body, timeout, signal));
      if (reply === undefined) throw new Error(`malformed poll reply from node ${uid}`);
      return reply;
    },
  };
  engine.setSessionRouter(router);
  channel.setNodeRequestHandler(async (body, signal) => {
    const request = parseRequest(body);
    if (request === undefined) throw new Error("malformed forwarded poll");
    const reply = await engine.handleForwardedPoll(request.sid, request.poll, signal);
    return { s: reply.status, h: reply.headers, b: reply.body };
  });
}

function parseRequest(body: unknown): { sid: string; poll: ForwardedPoll } | undefined {
  if (!isRecord(body) || typeof body.sid !== "string") return undefined;
  const { m: method, b: data, n: length, e: encoding } = body;
  if (method !== "GET" && method !== "POST") return undefined;
  if (data !== undefined && data !== null && !(data instanceof Uint8Array)) return undefined;
  const poll: ForwardedPoll = {
    method,
    body: data ?? undefined,
    contentLength: typeof length === "number" ? length : undefined,
    acceptEncoding: typeof encoding === "string" ? encoding : undefined,
  };
  return { sid: body.sid, poll };
}

function parseReply(value: unknown): ForwardedPollReply | undefined {
  if (!isRecord(value) || typeof value.s !== "number" || !(value.b instanceof Uint8Array)) {
    return undefined;
  }
  const headers: Record<string, string | number> = {};
  if (isRecord(value.h)) {
    for (const [name, field] of Object.entries(value.h)) {
      if (typeof field === "string" || typeof field === "number") headers[name] = field;
    }
  }
  return { status: value.s, headers, body: value.b };
}
