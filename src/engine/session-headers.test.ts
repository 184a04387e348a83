import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { EngineRequest } from "./engine-request.js";
import {
  type HeaderValue,
  headerLayout,
  headersObject,
  keptNames,
  keptValues,
  shareAddress,
  shareUrl,
  upgradeHeaders,
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
    rawHeaders: ["Host", "example", "Origin", "https://app", "Sec-WebSocket-Key", "k"],
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

/** The heap held by 20,000 results of `make`, after garbage collection. */
function heldBytes(make: () => unknown): number {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  const before = process.memoryUsage().heapUsed;
  const held = Array.from({ length: 20_000 }, make);
  gc();
  const bytes = process.memoryUsage().heapUsed - before;
  assert.equal(held.length, 20_000);
  return bytes;
}

test("peer addresses keep their value, and recent ones share one string", () => {
  const seen = ["127.0.0.1", "::1", "10.0.0.1", "127.0.0.1", "::ffff:192.0.2.1", ""];
  for (const address of seen) assert.equal(shareAddress(fresh(address)), address);
  for (let i = 0; i < 50; i++) assert.equal(shareAddress(fresh(`10.1.0.${i}`)), `10.1.0.${i}`);

  // Shared or not is only visible in memory: 20,000 sessions from one address hold one
  // string (each a pointer in this array), not 20,000 strings of 24 bytes. The bound is
  // half that, as the heap's own noise is a few kilobytes either way (once 477,536 B
  // against a bound of exactly 20,000 x 24), and unshared strings give no difference.
  const shared = heldBytes(() => shareAddress(fresh("203.0.113.7")));
  const unshared = heldBytes(() => fresh("203.0.113.7")); // the control: a string each
  assert.ok(unshared - shared > 20_000 * 12, `shared ${shared} B, unshared ${unshared} B`);
});

/**
 * Sends each header list to a real HTTP server as a request of its own and gives back, for
 * each, what `read` made of the request (called before anything reads `req.headers`) and
 * the headers object Node then builds.
 */
async function throughNode<T>(
  lists: readonly (readonly [string, string])[][],
  read: (req: IncomingMessage) => T,
): Promise<{ read: T; node: IncomingHttpHeaders }[]> {
  const seen: { read: T; node: IncomingHttpHeaders }[] = [];
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    const result = read(req);
    seen.push({ read: result, node: req.headers });
    res.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  try {
    for (const list of lists) {
      const socket = connect(port, "127.0.0.1");
      const lines = list.map(([name, value]) => `${name}: ${value}\r\n`).join("");
      socket.end(`GET / HTTP/1.1\r\n${lines}\r\n`);
      socket.resume();
      await once(socket, "close");
    }
  } finally {
    server.closeAllConnections();
    server.close();
  }
  assert.equal(seen.length, lists.length, "every request reached the server");
  return seen;
}

// Names in several letter cases, repeated ones (joined or dropped by Node's rules) and
// one that is not an own property of a plain object.
const NAMES = [
  "Host",
  "host",
  "Upgrade",
  "UPGRADE",
  "Connection",
  "Sec-WebSocket-Key",
  "sec-websocket-key",
  "Sec-WebSocket-Version",
  "Sec-WebSocket-Protocol",
  "sec-websocket-protocol",
  "User-Agent",
  "Cookie",
  "Set-Cookie",
  "Content-Type",
  "X-Trace",
  "x-trace",
  "__proto__",
];
const headerList = fc.array(
  fc.tuple(fc.constantFrom(...NAMES), fc.constantFrom("websocket", "13", "a, b", "chat", "x=1")),
  { maxLength: 40 },
);

test("a request's headers, read through its layout, are Node's, but the key", async () => {
  const lists: [string, string][][] = fc.sample(headerList, { numRuns: 150, seed: 5 });
  // A request with no header, one with every name once, one with more than 32 headers.
  lists.push(
    [],
    NAMES.slice(0, 6).map((name) => [name, "v"] as [string, string]),
  );
  lists.push(Array.from({ length: 40 }, (_, i) => [`X-H${i}`, `${i}`] as [string, string]));
  // Each request twice: once with a new layout, once with the one kept from the first.
  const twice = lists.flatMap((list) => [list, list]);
  const seen = await throughNode(twice, (req) => ({
    headers: new EngineRequest(req).headers,
    upgrade: upgradeHeaders(req),
  }));
  for (const { read, node } of seen) {
    const { "sec-websocket-key": key, ...kept } = node;
    assert.deepEqual(read.headers, kept);
    assert.deepEqual(Object.keys(read.headers), Object.keys(kept));
    assert.deepEqual(read.upgrade, {
      upgrade: node.upgrade,
      key,
      version: node["sec-websocket-version"],
      protocol: node["sec-websocket-protocol"],
    });
  }
});

test("requests laid out alike share one layout; at most 8 are kept", async () => {
  const list = (i: number): [string, string][] => [
    ["Host", "example"],
    ["Upgrade", "websocket"],
    [`X-Kind-${i}`, "1"],
  ];
  const lists = [list(0), list(0), ...Array.from({ length: 8 }, (_, i) => list(i + 1)), list(0)];
  const layouts = (await throughNode(lists, (req) => headerLayout(req.rawHeaders))).map(
    (seen) => seen.read,
  );
  assert.ok(layouts.every((layout) => layout !== undefined));
  assert.equal(layouts[1], layouts[0], "the second request of a layout finds the first's");
  assert.deepEqual(layouts[0]!.names, ["host", "upgrade", "x-kind-0"]);
  assert.notEqual(layouts[10], layouts[0], "eight other layouts since: it was let go");
  assert.deepEqual(layouts[10], layouts[0]);
});

test("requests of more than 32 headers have no layout", async () => {
  const list = (count: number): [string, string][] =>
    Array.from({ length: count }, (_, i) => [`X-H${i}`, "v"]);
  const seen = await throughNode([list(32), list(33)], (req) => headerLayout(req.rawHeaders));
  assert.equal(seen[0]!.read?.names.length, 32);
  assert.equal(seen[1]!.read, undefined);
});

test("requests read through a layout share the values of the shared headers", () => {
  // As Node's parser gives them: every name and value a new string.
  const request = (name: string) =>
    new EngineRequest({
      method: "GET",
      url: "/",
      rawHeaders: [fresh(name), fresh("app.example.com:3000"), fresh("Upgrade"), fresh("ws")],
      socket: { remoteAddress: "10.0.0.1", encrypted: false },
    } as unknown as IncomingMessage);
  assert.deepEqual(request("Host").headers, { host: "app.example.com:3000", upgrade: "ws" });
  // `Host` is one of the shared headers, `X-Host` is not (the control): 20,000 sessions
  // hold one host string, not 20,000 of 32 bytes (the bound: half that, as above).
  const shared = heldBytes(() => request("Host"));
  const unshared = heldBytes(() => request("X-Host"));
  assert.ok(unshared - shared > 20_000 * 16, `shared ${shared} B, unshared ${unshared} B`);
});
