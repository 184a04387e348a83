import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import {
  ClusterMessageType,
  decodeClusterMessage,
  encodeClusterMessage,
  parseClusterMessage,
  type TargetedMessage,
} from "./cluster-message.js";
import { NodeRequests } from "./node-requests.js";

/** Two nodes whose messages travel through MessagePack, as through a broker. */
function pair() {
  const nodes: Record<string, NodeRequests> = {};
  const sent: TargetedMessage[] = [];
  const make = (uid: string) =>
    new NodeRequests(uid, async (to, message) => {
      const bytes = encodeClusterMessage({ ...message, uid, nsp: "/" } as TargetedMessage);
      const decoded = decodeClusterMessage(bytes);
      assert.ok(decoded.ok);
      sent.push(decoded.value as TargetedMessage);
      setImmediate(() => nodes[to]?.onMessage(decoded.value as never));
    });
  nodes.a = make("a");
  nodes.b = make("b");
  return { a: nodes.a, b: nodes.b, sent };
}

describe("NodeRequests", () => {
  // The request timers are unref'd (they must not hold a server open): keep the loop alive.
  let keepAlive: ReturnType<typeof setInterval>;
  beforeEach(() => {
    keepAlive = setInterval(() => {}, 1000);
  });
  afterEach(() => clearInterval(keepAlive));

  test("a request reaches the other node's handler and its answer comes back", async () => {
    const { a, b } = pair();
    b.setHandler(async (body) => ({ echoed: body, bytes: new Uint8Array([1, 2]) }));
    const answer = await a.request("b", { hello: "world" }, 1000);
    assert.deepEqual(answer, { echoed: { hello: "world" }, bytes: Buffer.from([1, 2]) });
  });

  test("a handler's failure rejects the request with its message", async () => {
    const { a, b } = pair();
    b.setHandler(async () => {
      throw new Error("no such session");
    });
    await assert.rejects(a.request("b", 1, 1000), /no such session/);
  });

  test("a node without a handler says so", async () => {
    const { a } = pair();
    await assert.rejects(a.request("b", 1, 1000), /serves no node requests/);
  });

  test("aborting tells the holder, whose signal aborts; a late answer is dropped", async () => {
    const { a, b, sent } = pair();
    let holderSignal: AbortSignal | undefined;
    b.setHandler(
      (_body, signal) =>
        new Promise((resolve) => {
          holderSignal = signal;
          signal.addEventListener("abort", () => setTimeout(() => resolve("late"), 10));
        }),
    );
    const controller = new AbortController();
    const pending = a.request("b", 1, 1000, controller.signal);
    await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort();
    await assert.rejects(pending, /aborted/);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(holderSignal?.aborted, true);
    assert.ok(sent.some((m) => m.type === ClusterMessageType.NODE_ABORT));
    assert.ok(!sent.some((m) => m.type === ClusterMessageType.NODE_RESPONSE));
  });

  test("a timeout rejects and aborts the holder's work", async () => {
    const { a, b } = pair();
    let holderSignal: AbortSignal | undefined;
    b.setHandler((_body, signal) => {
      holderSignal = signal;
      return new Promise(() => {});
    });
    await assert.rejects(a.request("b", 1, 50), /did not answer within 50 ms/);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(holderSignal?.aborted, true);
  });

  test("a node declared gone fails its pending requests at once and abandons its own", async () => {
    const { a, b } = pair();
    let holderSignal: AbortSignal | undefined;
    b.setHandler((_body, signal) => {
      holderSignal = signal;
      return new Promise(() => {});
    });
    const pending = a.request("b", 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    a.onNodeGone("b");
    await assert.rejects(pending, /node b is gone/);
    b.onNodeGone("a");
    assert.equal(holderSignal?.aborted, true);
  });

  test("an answer from a node the request was not sent to is ignored", async () => {
    const { a, b } = pair();
    b.setHandler(() => new Promise(() => {}));
    const pending = a.request("b", 1, 100);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const requestId = "a-0";
    a.onMessage({
      uid: "c",
      nsp: "/",
      type: ClusterMessageType.NODE_RESPONSE,
      data: { requestId, body: "forged" },
    });
    await assert.rejects(pending, /did not answer/);
  });
});

describe("node messages on the wire", () => {
  test("malformed NODE_* messages are refused", () => {
    for (const type of [100, 101, 102]) {
      assert.equal(parseClusterMessage({ uid: "a", nsp: "/", type, data: {} }).ok, false);
      assert.equal(parseClusterMessage({ uid: "a", nsp: "/", type, data: "x" }).ok, false);
    }
  });
});
