import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClusterMessageType, type ClusterResponse } from "./cluster-message.js";
import { PendingRequests, type RequestHandlers } from "./cluster-requests.js";

function response(uid: string, requestId = "r"): ClusterResponse {
  return {
    uid,
    nsp: "/",
    type: ClusterMessageType.SERVER_SIDE_EMIT_RESPONSE,
    data: { requestId, packet: uid },
  };
}

/** Handlers that record what happened. */
function recorder(): RequestHandlers & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    onResponse: (message) => {
      log.push(`response ${message.uid}`);
      return true;
    },
    onGone: (uid) => log.push(`gone ${uid}`),
    onComplete: () => log.push("complete"),
    onTimeout: (missing) => log.push(`timeout ${missing}`),
  };
}

describe("pending requests", () => {
  test("complete once every expected node answered", () => {
    const requests = new PendingRequests();
    const handlers = recorder();
    requests.add("r", ["a", "b"], 1000, handlers);
    requests.onResponse(response("a"));
    assert.deepEqual(handlers.log, ["response a"]);
    requests.onResponse(response("b"));
    assert.deepEqual(handlers.log, ["response a", "response b", "complete"]);
    assert.equal(requests.size, 0);
  });

  test("complete at once when no node is expected", () => {
    const requests = new PendingRequests();
    const handlers = recorder();
    requests.add("r", [], 1000, handlers);
    assert.deepEqual(handlers.log, ["complete"]);
  });

  test("stop waiting for a node that is gone", () => {
    const requests = new PendingRequests();
    const handlers = recorder();
    requests.add("r", ["a", "b"], 1000, handlers);
    requests.onResponse(response("a"));
    requests.onNodeGone("b");
    requests.onNodeGone("b");
    assert.deepEqual(handlers.log, ["response a", "gone b", "complete"]);
  });

  test("time out with the number of nodes still expected", async () => {
    const requests = new PendingRequests();
    const handlers = recorder();
    requests.add("r", ["a", "b"], 20, handlers);
    requests.onResponse(response("b"));
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.deepEqual(handlers.log, ["response b", "timeout 1"]);
    assert.equal(requests.size, 0);
  });

  test("strict requests ignore unexpected responders; kept ones route until the timeout", async () => {
    const requests = new PendingRequests();
    const handlers = recorder();
    requests.add("r", ["a"], 20, handlers, { strict: true, keepUntilTimeout: true });
    requests.onResponse(response(""));
    requests.onResponse(response("a"));
    requests.onResponse(response("a"));
    assert.deepEqual(handlers.log, ["response a", "complete", "response a"]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(requests.size, 0);
    assert.deepEqual(handlers.log, ["response a", "complete", "response a"]);
  });

  test("cancel counts every node as gone; completeAll ends the rest", () => {
    const requests = new PendingRequests();
    const first = recorder();
    const second = recorder();
    requests.add("r1", ["a", "b"], 1000, first);
    requests.add("r2", ["a"], 1000, second);
    requests.cancel("r1");
    requests.completeAll();
    assert.deepEqual(first.log, ["gone a", "gone b"]);
    assert.deepEqual(second.log, ["complete"]);
    assert.equal(requests.size, 0);
  });
});
