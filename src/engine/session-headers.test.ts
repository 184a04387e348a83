import assert from "node:assert/strict";
import type { IncomingHttpHeaders } from "node:http";
import { test } from "node:test";
import { shareHeaderValues, shareUrl } from "./session-headers.js";

// Strings built at run time, as the HTTP parser makes them (not literals V8 shares).
const fresh = (text: string): string => [...text].join("");

test("shared header values keep every header and value as the client sent it", () => {
  const first: IncomingHttpHeaders = {
    host: fresh("127.0.0.1:3000"),
    connection: fresh("Upgrade"),
    upgrade: fresh("websocket"),
    "sec-websocket-key": fresh("dGhlIHNhbXBsZSBub25jZQ=="),
    "sec-websocket-version": fresh("13"),
    cookie: fresh("a=1"),
    "set-cookie": [fresh("x=1"), fresh("y=2")],
  };
  const copy = structuredClone(first);
  shareHeaderValues(first);
  assert.deepEqual(first, copy);
  const second: IncomingHttpHeaders = {
    host: fresh("127.0.0.1:3000"),
    connection: fresh("keep-alive"),
    "sec-websocket-key": fresh("another key"),
  };
  shareHeaderValues(second);
  assert.deepEqual(second, {
    host: "127.0.0.1:3000",
    connection: "keep-alive",
    "sec-websocket-key": "another key",
  });
});

test("very long values and headers that differ per client are left alone", () => {
  const long = "x".repeat(10_000);
  const headers: IncomingHttpHeaders = { "user-agent": long, authorization: fresh("Bearer t") };
  shareHeaderValues(headers);
  assert.equal(headers["user-agent"], long);
  assert.equal(headers.authorization, "Bearer t");
});

test("handshake URLs keep their value, shared or not", () => {
  const urls = [
    "/socket.io/?EIO=4&transport=websocket",
    "/socket.io/?EIO=4&transport=websocket",
    "/socket.io?transport=polling&EIO=4",
    "/socket.io/?EIO=4&transport=websocket&token=secret",
    "/socket.io/?EIO=4&transport=polling&t=PZ1xq2",
    "/socket.io/?EIO=4&transport=websocket&sid=abc",
    "/socket.io/",
    "/",
  ];
  for (const url of urls) assert.equal(shareUrl(fresh(url)), url);
});
