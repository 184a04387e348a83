import assert from "node:assert/strict";
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { EngineRequest } from "./engine-request.js";
import {
  type HeaderValue,
  headersObject,
  keptNames,
  keptValues,
  shareAddress,
  shareUrl,
} from "./session-headers.js";

// Strings built at run time, as the HTTP parser makes them (not literals V8 shares).
const fresh = (text: string): string => [...text].join("");

function kept(headers: IncomingHttpHeaders): { names: readonly string[]; values: HeaderValue[] } {
  const names = keptNames(headers);
  return { names, values: keptValues(headers, names) };
}

test("kept headers give back every header and value as the client sent it, but the key", () => {
  const first: IncomingHttpHeaders = {
    host: fresh("127.0.0.1:3000"),
    connection: fresh("Upgrade"),
    upgrade: fresh("websocket"),
    "sec-websocket-key": fresh("dGhlIHNhbXBsZSBub25jZQ=="),
    "sec-websocket-version": fresh("13"),
    cookie: fresh("a=1"),
    "set-cookie": [fresh("x=1"), fresh("y=2")],
  };
  const { "sec-websocket-key": _key, ...expected } = structuredClone(first);
  const a = kept(first);
  assert.deepEqual(headersObject(a.names, a.values), expected);
  assert.deepEqual(Object.keys(headersObject(a.names, a.values)), Object.keys(expected));
  const second: IncomingHttpHeaders = {
    host: fresh("127.0.0.1:3000"),
    connection: fresh("keep-alive"),
  };
  const b = kept(second);
  assert.deepEqual(headersObject(b.names, b.values), second);
});

test("requests with the same headers in the same order share one names list", () => {
  const make = (): IncomingHttpHeaders => ({
    host: fresh("example"),
    upgrade: fresh("websocket"),
    "sec-websocket-key": fresh(String(Math.random())),
    "user-agent": fresh("agent"),
  });
  const a = kept(make());
  const b = kept(make());
  assert.equal(a.names, b.names);
  assert.deepEqual(a.names, ["host", "upgrade", "user-agent"]);
  // Shared headers share their value strings too (equal either way).
  assert.equal(a.values[0], b.values[0]);
  const other = kept({ upgrade: fresh("websocket"), host: fresh("example") });
  assert.notEqual(other.names, a.names);
  assert.deepEqual(other.names, ["upgrade", "host"]);
});

test("very long values and headers that differ per client are kept as they are", () => {
  const long = "x".repeat(10_000);
  const headers: IncomingHttpHeaders = { "user-agent": long, authorization: fresh("Bearer t") };
  const k = kept(headers);
  assert.deepEqual(headersObject(k.names, k.values), {
    "user-agent": long,
    authorization: "Bearer t",
  });
});

test("an EngineRequest builds its headers object once, on first read", () => {
  const request = new EngineRequest({
    method: "GET",
    url: "/socket.io/?EIO=4&transport=websocket",
    headers: { host: "example", origin: "https://app", "sec-websocket-key": "k" },
    socket: { remoteAddress: "10.0.0.1", encrypted: false },
  } as unknown as IncomingMessage);
  const headers = request.headers;
  assert.deepEqual(headers, { host: "example", origin: "https://app" });
  assert.equal(request.headers, headers);
});

test("handshake URLs keep their value, shared or not", () => {
  const urls = [
    "/socket.io/?EIO=4&transport=websocket",
    "/socket.io/?EIO=4&transport=websocket",
    "/socket.io?transport=polling&EIO=4",
    "/socket.io/?EIO=4&transport=websocket&token=secret",
    "/socket.io/?EIO=4&transport=polling&t=PZ1xq2",
    "/socket.io/?EIO=4&transport=websocket&sid=abc",
    "/socket.io/?EIO=4&transport=websocket&sb_connect=/",
    "/socket.io/",
    "/",
  ];
  for (const url of urls) assert.equal(shareUrl(fresh(url)), url);
});

test("peer addresses keep their value, and recent ones share one string", () => {
  const seen = ["127.0.0.1", "::1", "10.0.0.1", "127.0.0.1", "::ffff:192.0.2.1", ""];
  for (const address of seen) assert.equal(shareAddress(fresh(address)), address);
  for (let i = 0; i < 50; i++) assert.equal(shareAddress(fresh(`10.1.0.${i}`)), `10.1.0.${i}`);

  // Shared or not is only visible in memory: 20,000 sessions from one address hold one
  // string (each a pointer in this array), not 20,000 strings of 32 bytes.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const heldBytes = (make: () => string): number => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const held = Array.from({ length: 20_000 }, make);
    gc();
    const bytes = process.memoryUsage().heapUsed - before;
    assert.equal(held.length, 20_000);
    return bytes;
  };
  const shared = heldBytes(() => shareAddress(fresh("203.0.113.7")));
  const unshared = heldBytes(() => fresh("203.0.113.7")); // the control: a string each
  assert.ok(unshared - shared > 20_000 * 24, `shared ${shared} B, unshared ${unshared} B`);
});
