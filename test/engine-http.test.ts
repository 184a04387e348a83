/**
 * HTTP-level behaviour of EngineServer: CORS, the session cookie, compression of polling
 * responses, attaching next to an application's own listeners, and server shutdown.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, afterEach, describe, it } from "node:test";
import { gunzipSync, inflateSync } from "node:zlib";
import { WebSocket } from "ws";
import { EngineServer, type EngineServerOptions } from "../src/engine/index.js";
import {
  type EngineHarness,
  httpRequest,
  pollingHandshake,
  startEngine,
  until,
  waitFor,
} from "./engine-helpers.js";

const harnesses: EngineHarness[] = [];
const start = async (options: EngineServerOptions) => {
  const harness = await startEngine(options);
  harnesses.push(harness);
  return harness;
};
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((harness) => harness.stop()));
});

describe("engine CORS", () => {
  it("sends no CORS headers and refuses OPTIONS without the cors option", async () => {
    const h = await start({});
    const res = await httpRequest(h.url("&transport=polling"), {
      headers: { Origin: "https://a.test" },
    });
    assert.equal(res.headers["access-control-allow-origin"], undefined);
    const preflight = await httpRequest(h.url("&transport=polling"), { method: "OPTIONS" });
    assert.equal(preflight.text, '{"code":2,"message":"Bad handshake method"}');
  });

  it("answers a preflight with 204 and allowed methods, headers, credentials and max-age", async () => {
    const h = await start({ cors: { origin: "https://a.test", credentials: true, maxAge: 600 } });
    const res = await httpRequest(h.url("&transport=polling"), {
      method: "OPTIONS",
      headers: {
        Origin: "https://a.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers["access-control-allow-origin"], "https://a.test");
    assert.equal(res.headers["access-control-allow-credentials"], "true");
    assert.equal(res.headers["access-control-allow-methods"], "GET,POST");
    assert.equal(res.headers["access-control-allow-headers"], "content-type");
    assert.equal(res.headers["access-control-max-age"], "600");
    assert.match(String(res.headers.vary), /Origin/);
    assert.equal(h.engine.clientsCount, 0, "a preflight opens no session");
  });

  it("reflects only matching origins for arrays and patterns, and exposes headers", async () => {
    const h = await start({
      cors: { origin: ["https://a.test", /\.b\.test$/], exposedHeaders: ["x-id"] },
    });
    const check = async (origin: string) => {
      const res = await httpRequest(h.url("&transport=polling"), { headers: { Origin: origin } });
      assert.equal(res.status, 200);
      return res.headers;
    };
    assert.equal((await check("https://a.test"))["access-control-allow-origin"], "https://a.test");
    const sub = await check("https://x.b.test");
    assert.equal(sub["access-control-allow-origin"], "https://x.b.test");
    assert.equal(sub["access-control-expose-headers"], "x-id");
    assert.equal((await check("https://evil.test"))["access-control-allow-origin"], undefined);
  });

  it("asks an origin function, and defaults to '*' when origin is not set", async () => {
    const h = await start({
      cors: {
        origin: (origin, callback) =>
          setImmediate(() => callback(null, origin === "https://ok.test")),
      },
    });
    const ok = await httpRequest(h.url("&transport=polling"), {
      headers: { Origin: "https://ok.test" },
    });
    assert.equal(ok.headers["access-control-allow-origin"], "https://ok.test");
    const no = await httpRequest(h.url("&transport=polling"), {
      headers: { Origin: "https://no.test" },
    });
    assert.equal(no.headers["access-control-allow-origin"], undefined);
    const star = await start({ cors: {} });
    const any = await httpRequest(star.url("&transport=polling"), {
      headers: { Origin: "https://z.test" },
    });
    assert.equal(any.headers["access-control-allow-origin"], "*");
  });
});

describe("engine cookie", () => {
  it("sets no cookie by default", async () => {
    const h = await start({});
    const res = await httpRequest(h.url("&transport=polling"));
    assert.equal(res.headers["set-cookie"], undefined);
  });

  it("sets io=<sid> on the polling handshake only, with engine.io's defaults", async () => {
    const h = await start({ cookie: true });
    const res = await httpRequest(h.url("&transport=polling"));
    const sid = (JSON.parse(res.text.slice(1)) as { sid: string }).sid;
    assert.deepEqual(res.headers["set-cookie"], [`io=${sid}; Path=/; HttpOnly; SameSite=Lax`]);
    const poll = httpRequest(h.url(`&transport=polling&sid=${sid}`));
    h.engine.clients.get(sid)?.send("x");
    assert.equal((await poll).headers["set-cookie"], undefined);
  });

  it("sets a custom cookie on the WebSocket handshake", async () => {
    const h = await start({
      cookie: {
        name: "sticky",
        path: "/app",
        httpOnly: false,
        sameSite: "none",
        secure: true,
        maxAge: 60,
      },
    });
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}/engine.io/?EIO=4&transport=websocket`);
    const upgraded = waitFor<[{ headers: Record<string, unknown> }]>(ws, "upgrade");
    const message = waitFor<[Buffer]>(ws, "message");
    const [res] = await upgraded;
    const [frame] = await message;
    const sid = (JSON.parse(frame.toString().slice(1)) as { sid: string }).sid;
    assert.deepEqual(res.headers["set-cookie"], [
      `sticky=${sid}; Max-Age=60; Path=/app; Secure; SameSite=None`,
    ]);
    ws.terminate();
  });
});

describe("engine HTTP compression", () => {
  const big = "z".repeat(2000);
  const fetchPayload = async (
    options: EngineServerOptions,
    acceptEncoding: string | undefined,
    data: string,
    compress = true,
  ) => {
    const h = await start(options);
    const { sid } = await pollingHandshake(h);
    h.engine.clients.get(sid)?.send(data, { compress });
    const headers = acceptEncoding === undefined ? {} : { "Accept-Encoding": acceptEncoding };
    return httpRequest(h.url(`&transport=polling&sid=${sid}`), { headers });
  };

  it("gzips large payloads when the client accepts gzip", async () => {
    const res = await fetchPayload({}, "gzip, deflate", big);
    assert.equal(res.headers["content-encoding"], "gzip");
    assert.equal(gunzipSync(res.body).toString(), `4${big}`);
    assert.ok(res.body.length < 200);
  });

  it("deflates when deflate is preferred", async () => {
    const res = await fetchPayload({}, "gzip;q=0.5, deflate", big);
    assert.equal(res.headers["content-encoding"], "deflate");
    assert.equal(inflateSync(res.body).toString(), `4${big}`);
  });

  it("sends plain text below the threshold, without Accept-Encoding, or when disabled", async () => {
    const cases = [
      await fetchPayload({}, "gzip", "small"),
      await fetchPayload({}, undefined, big),
      await fetchPayload({}, "gzip", big, false),
      await fetchPayload({ httpCompression: false }, "gzip", big),
      await fetchPayload({ httpCompression: { threshold: 10_000 } }, "gzip", big),
    ];
    for (const res of cases) {
      assert.equal(res.headers["content-encoding"], undefined);
      assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
      assert.ok(res.text.startsWith("4"));
    }
  });
});

describe("engine permessage-deflate", () => {
  for (const perMessageDeflate of [false, true]) {
    it(`${perMessageDeflate ? "negotiates" : "declines"} permessage-deflate when the option is ${perMessageDeflate}`, async () => {
      const h = await start({ perMessageDeflate });
      const raw = h.rawWebSocket("&transport=websocket");
      await raw.next();
      assert.equal(raw.ws.extensions.includes("permessage-deflate"), perMessageDeflate);
      const session = [...h.engine.clients.values()][0]!;
      const received = waitFor<[string]>(session, "message");
      raw.ws.send(`4${"q".repeat(5000)}`);
      assert.equal((await received)[0], "q".repeat(5000));
    });
  }
});

describe("engine attach", () => {
  const servers: { close(): void; closeAllConnections(): void }[] = [];
  after(() => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
  });

  const listen = async (options: EngineServerOptions, withUpgradeListener = false) => {
    const http = createServer((_req, res) => res.end("app"));
    if (withUpgradeListener) {
      http.on("upgrade", (req, socket: Socket) => {
        if (req.url === "/app-ws")
          socket.end("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n");
      });
    }
    const engine = new EngineServer(options).attach(http);
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    servers.push(http);
    return { engine, origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
  };

  it("serves its path with or without trailing slash and leaves other requests to the app", async () => {
    const { engine, origin } = await listen({ path: "/socket.io/" });
    assert.equal((await httpRequest(`${origin}/other`)).text, "app");
    assert.equal((await httpRequest(`${origin}/socket.io.js`)).text, "app");
    const withSlash = await httpRequest(`${origin}/socket.io/?EIO=4&transport=polling`);
    const without = await httpRequest(`${origin}/socket.io?EIO=4&transport=polling`);
    assert.ok(withSlash.text.startsWith("0{"));
    assert.ok(without.text.startsWith("0{"));
    assert.equal(engine.clientsCount, 2);
    await engine.close();
  });

  it("destroys unrelated upgrades when nobody else handles them", async () => {
    const { engine, origin } = await listen({});
    const ws = new WebSocket(`${origin.replace("http", "ws")}/elsewhere`);
    ws.on("error", () => {});
    const [code] = await waitFor<[number]>(ws, "close", 3000);
    assert.equal(code, 1006);
    await engine.close();
  });

  it("leaves unrelated upgrades to the app's own upgrade listener", async () => {
    const { engine, origin } = await listen({}, true);
    const ws = new WebSocket(`${origin.replace("http", "ws")}/app-ws`);
    ws.on("error", () => {});
    const [, res] = await waitFor<[unknown, { statusCode: number }]>(ws, "unexpected-response");
    assert.equal(res.statusCode, 418);
    ws.terminate();
    await engine.close();
  });
});

describe("engine close", () => {
  it("closes every session with 'server shutting down' and refuses new handshakes", async () => {
    const h = await start({});
    const wsSide = h.nextConnection();
    const wsClient = h.connect({ transports: ["websocket"] });
    const wsSession = await wsSide;
    const { sid } = await pollingHandshake(h);
    const pollSession = h.engine.clients.get(sid)!;
    const pending = httpRequest(h.url(`&transport=polling&sid=${sid}`));
    await until(() => pollSession.transport.writable, 3000, "the GET to be pending");
    const reasons = [
      waitFor<[string]>(wsSession, "close"),
      waitFor<[string]>(pollSession, "close"),
    ];
    const clientClosed = waitFor<[string]>(wsClient, "close");
    await h.engine.close();
    assert.deepEqual(
      (await Promise.all(reasons)).map(([reason]) => reason),
      ["server shutting down", "server shutting down"],
    );
    assert.equal((await pending).text, "1", "the pending GET gets a close packet");
    assert.equal((await clientClosed)[0], "transport close");
    assert.equal(h.engine.clientsCount, 0);
    const refused = await httpRequest(h.url("&transport=polling"));
    assert.equal(refused.text, '{"code":3,"message":"Bad request"}');
  });
});
