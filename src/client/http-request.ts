/**
 * One HTTP request of the polling transport: `fetch` in browsers and workers, `node:http(s)`
 * in Node, where `fetch` (undici) cost about four times the client CPU per polling round
 * trip (404 against 104 us, `node bench/profile/client-echo.mjs switchboard default 5
 * --polling`). Both resolve with the body of a 200 answer and reject on anything else.
 */
import type { NodeConnectOptions } from "./node-options.js";
import { isNode } from "./transport.js";

/** What a polling request needs. */
export interface PollRequest {
  method: "GET" | "POST";
  body?: string | undefined;
  headers: Record<string, string>;
  /** Browsers: send cookies cross-origin. */
  withCredentials?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Node: TLS options for an `https:` URL, and the agent. */
  node?: NodeConnectOptions | undefined;
}

// What node:http and node:https have in common here.
type NodeHttp = { request: typeof import("node:http").request };
type RequestOptions = import("node:http").RequestOptions;

// Node's modules, loaded once when the first request is made in Node.
let nodeHttp: Promise<[NodeHttp, NodeHttp]> | undefined;

/** Sends `init` to `url`; resolves with the response text of a 200. */
export function httpRequest(url: string, init: PollRequest): Promise<string> {
  if (!isNode)
    return fetch(url, {
      method: init.method,
      body: init.body ?? null,
      headers: init.headers,
      credentials: init.withCredentials ? "include" : "same-origin",
      signal: init.signal ?? null,
    }).then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))));
  nodeHttp ??= Promise.all([import("node:http"), import("node:https")]);
  return nodeHttp.then(([http, https]) =>
    nodeRequest(url.startsWith("https:") ? https : http, url, init),
  );
}

function nodeRequest(http: NodeHttp, url: string, init: PollRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers =
      init.body === undefined
        ? init.headers
        : { "content-type": "text/plain;charset=UTF-8", ...init.headers };
    const options = { method: init.method, headers, signal: init.signal, ...init.node };
    const req = http.request(url, options as RequestOptions, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () =>
        res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}
