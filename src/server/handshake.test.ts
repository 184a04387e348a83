import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { EngineRequest } from "../engine/index.js";
import { buildHandshake } from "./handshake.js";

// The fields of an IncomingMessage that EngineRequest reads.
const request = new EngineRequest({
  method: "GET",
  url: "/socket.io/?EIO=4&transport=websocket&room=blue%20sky",
  headers: { host: "example", origin: "https://app" },
  socket: { remoteAddress: "10.0.0.1", encrypted: true },
} as unknown as IncomingMessage);

describe("buildHandshake", () => {
  it("has Socket.IO's fields, the derived ones computed on read", () => {
    const before = Date.now();
    const handshake = buildHandshake(request, { token: "t" });
    assert.equal(handshake.address, "10.0.0.1");
    assert.equal(handshake.secure, true);
    assert.equal(handshake.xdomain, true);
    assert.equal(handshake.url, "/socket.io/?EIO=4&transport=websocket&room=blue%20sky");
    assert.deepEqual(handshake.query, { EIO: "4", transport: "websocket", room: "blue sky" });
    assert.equal(handshake.query, handshake.query, "parsed once");
    assert.deepEqual(handshake.auth, { token: "t" });
    assert.ok(handshake.issued >= before && handshake.issued <= Date.now());
    assert.equal(handshake.time, new Date(handshake.issued).toString());
  });

  it("serialises every field, as a plain Socket.IO handshake would", () => {
    const handshake = buildHandshake(request, ["not", "an", "object"]);
    const json = JSON.parse(JSON.stringify(handshake)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), [
      "address",
      "auth",
      "headers",
      "issued",
      "query",
      "secure",
      "time",
      "url",
      "xdomain",
    ]);
    assert.deepEqual(json.auth, {});
    assert.equal(json.time, handshake.time);
  });
});
