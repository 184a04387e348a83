import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { describe, it } from "node:test";
import { EngineRequest } from "../engine/index.js";
import {
  buildHandshake,
  handshakeNamespace,
  handshakeOrTime,
  joinedNow,
  openPacketFields,
} from "./handshake.js";

// The fields of an IncomingMessage that EngineRequest reads.
const request = new EngineRequest({
  method: "GET",
  url: "/socket.io/?EIO=4&transport=websocket&room=blue%20sky",
  rawHeaders: ["Host", "example", "Origin", "https://app"],
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

describe("handshakeOrTime", () => {
  it("keeps only the join time without an auth object, and builds the handshake with one", async () => {
    const before = Date.now();
    const joined = handshakeOrTime(request, undefined);
    assert.equal(typeof joined, "number");
    assert.equal(typeof handshakeOrTime(request, ["not", "an", "object"]), "number");
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Built later, it still says when the socket joined.
    const late = buildHandshake(request, undefined, joined as number);
    assert.ok(late.issued >= before && late.issued < before + 15, `${late.issued} vs ${before}`);
    assert.deepEqual(late.auth, {});
    const withAuth = handshakeOrTime(request, { token: "t" });
    assert.notEqual(typeof withAuth, "number");
    assert.deepEqual((withAuth as { auth: unknown }).auth, { token: "t" });
    assert.ok(Number.isInteger(joinedNow()));
  });
});

describe("handshakeNamespace", () => {
  it("reads sb_connect as a whole parameter, decoded, starting with a slash", () => {
    const cases: [string, string | undefined][] = [
      ["/socket.io/?EIO=4&transport=websocket&sb_connect=/", "/"],
      ["/socket.io/?sb_connect=/chat&EIO=4", "/chat"],
      ["/socket.io/?EIO=4&sb_connect=%2Fa%20b", "/a b"],
      ["/socket.io/?EIO=4&sb_connect=/a+b", "/a b"],
      ["/socket.io/?EIO=4&xsb_connect=/&sb_connect=/second", "/second"],
      ["/socket.io/?EIO=4&xsb_connect=/", undefined],
      ["/socket.io/?EIO=4&sb_connect=chat", undefined],
      ["/socket.io/?EIO=4&sb_connect=", undefined],
      ["/socket.io/?EIO=4&sb_connect=%E0%A4%A", undefined],
      ["/socket.io/sb_connect=/", undefined],
    ];
    for (const [url, expected] of cases) assert.equal(handshakeNamespace(url), expected, url);
    // Each URL twice in a row, then in the other order: the one-URL cache never mixes them.
    for (const [url, expected] of [...cases, ...cases.reverse()]) {
      assert.equal(handshakeNamespace(url), expected, url);
      assert.equal(handshakeNamespace([...url].join("")), expected, url);
    }
  });
});

describe("openPacketFields", () => {
  const req = (url: string) => ({ url }) as IncomingMessage;
  const log: string[] = [];
  const fields = (url: string, own?: (r: IncomingMessage) => Record<string, unknown>) =>
    openPacketFields(req(url), own, (message) => log.push(message));

  it("confirms the namespace of sb_connect in one shared, frozen object per name", () => {
    const a = fields("/socket.io/?EIO=4&sb_connect=/");
    assert.deepEqual(a, { sb_connect: "/" });
    assert.ok(Object.isFrozen(a));
    assert.equal(fields("/socket.io/?sb_connect=/&EIO=4"), a);
    assert.deepEqual(fields("/socket.io/?EIO=4&sb_connect=/chat"), { sb_connect: "/chat" });
    assert.equal(fields("/socket.io/?EIO=4"), undefined);
  });

  it("adds the application's fields, and still confirms when its function throws", () => {
    const own = () => ({ region: "eu" });
    const merged = fields("/socket.io/?EIO=4&sb_connect=/", own);
    assert.deepEqual(merged, { region: "eu", sb_connect: "/" });
    assert.notEqual(fields("/socket.io/?EIO=4&sb_connect=/", own), merged);
    assert.deepEqual(fields("/socket.io/?EIO=4", own), { region: "eu" });
    const thrown = fields("/socket.io/?EIO=4&sb_connect=/", () => {
      throw new Error("boom");
    });
    assert.deepEqual(thrown, { sb_connect: "/" });
    assert.match(log.at(-1)!, /openPacketFields threw: Error: boom/);
  });
});
