import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { httpRequest } from "./http-request.js";

describe("httpRequest (Node: node:http)", () => {
  let server: Server;
  let url: string;
  const seen: { method: string; type: string | undefined; body: string }[] = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => {
        body += c;
      });
      req.on("end", () => {
        seen.push({ method: req.method!, type: req.headers["content-type"], body });
        if (req.url?.startsWith("/hang")) return; // never answers
        res.writeHead(req.url?.startsWith("/bad") ? 400 : 200);
        res.end(req.url?.startsWith("/bad") ? "nope" : `got ${body || "nothing"} é`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it("GETs and POSTs without fetch, and resolves with the UTF-8 text of a 200", async () => {
    const fetch = globalThis.fetch;
    globalThis.fetch = () => Promise.reject(new Error("fetch used"));
    try {
      assert.equal(await httpRequest(`${url}/`, { method: "GET", headers: {} }), "got nothing é");
      assert.equal(
        await httpRequest(`${url}/`, { method: "POST", body: "4hi", headers: { "x-a": "1" } }),
        "got 4hi é",
      );
    } finally {
      globalThis.fetch = fetch;
    }
    assert.deepEqual(seen.slice(-2), [
      { method: "GET", type: undefined, body: "" },
      { method: "POST", type: "text/plain;charset=UTF-8", body: "4hi" },
    ]);
  });

  it("rejects on another status, on abort, and when nothing listens", async () => {
    await assert.rejects(httpRequest(`${url}/bad`, { method: "GET", headers: {} }), /HTTP 400/);
    const abort = new AbortController();
    const pending = httpRequest(`${url}/hang`, {
      method: "GET",
      headers: {},
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 20);
    await assert.rejects(pending, { name: "AbortError" });
    await assert.rejects(httpRequest("http://127.0.0.1:1/", { method: "GET", headers: {} }));
  });
});
