// Bare-WebSocket mode: plain WebSocket clients (the `ws` package here, the browser's own
// WebSocket in Chromium below) speak the JSON envelope and reach the same namespaces,
// middleware, rooms, acks and broadcasts as socket.io-client, next to it on one server.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { afterEach, describe, test } from "node:test";
import { chromium } from "playwright-core";
import { WebSocket } from "ws";
import type { ServerOptions } from "../src/server/index.js";
import {
  closeClients,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";

type Frame = Record<string, unknown>;

/** A plain `ws` client that collects the JSON frames it receives. */
class Bare {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  #waiters: (() => void)[] = [];

  constructor(url: string, opts: { autoPong?: boolean } = {}) {
    this.ws = new WebSocket(url, opts);
    this.ws.on("message", (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.ws.on("error", () => {});
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first frame received (from now on or earlier) that matches `match`. */
  async next(match: (frame: Frame) => boolean, ms = 3000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) {
        this.frames.splice(this.frames.indexOf(found), 1);
        return found;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame; got ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  opened(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => this.ws.once("open", () => resolve()));
  }

  closed(): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) =>
      this.ws.once("close", (code: number, reason: Buffer) =>
        resolve({ code, reason: reason.toString() }),
      ),
    );
  }
}

describe("bare-WebSocket mode", () => {
  let server: TestServer | undefined;
  const bares: Bare[] = [];

  async function start(opts: ServerOptions = {}): Promise<TestServer> {
    server = await startServer({ bareWebSocket: true, ...opts });
    server.io.on("connection", (socket) => {
      socket.on("echo", (...args: unknown[]) => {
        const ack = args.pop() as (...a: unknown[]) => void;
        ack(...args);
      });
      socket.on("join", (room: string) => socket.join(room));
    });
    return server;
  }

  function bare(path = "/ws", opts: { autoPong?: boolean } = {}): Bare {
    const client = new Bare(`ws://127.0.0.1:${server?.port}${path}`, opts);
    bares.push(client);
    return client;
  }

  afterEach(async () => {
    for (const client of bares.splice(0)) client.ws.terminate();
    closeClients();
    await server?.close();
    server = undefined;
  });

  test("joins the main namespace on open; events, acks both ways, no recovery offsets", async () => {
    const srv = await start();
    const sockets: string[] = [];
    srv.io.on("connection", (socket) => {
      sockets.push(socket.id);
      socket.emit("hello", { a: 1 }, "two");
    });
    const client = bare();
    const joined = await client.next((f) => "connected" in f);
    assert.deepEqual(joined, { connected: "/", id: sockets[0] });
    // Recovery is on by default: the offset the server appends is not shown to a bare client.
    assert.deepEqual(await client.next((f) => f.event === "hello"), {
      event: "hello",
      args: [{ a: 1 }, "two"],
    });
    client.send({ event: "echo", args: [1, "a", null], ack: 7 });
    assert.deepEqual(await client.next((f) => f.ack === 7), { ack: 7, args: [1, "a", null] });
    const socket = srv.io.sockets.sockets.get(sockets[0] ?? "");
    assert.ok(socket);
    const answer = socket.timeout(2000).emitWithAck("question", 42);
    const asked = await client.next((f) => f.event === "question");
    assert.equal(typeof asked.ack, "number");
    assert.deepEqual(asked.args, [42]);
    client.send({ ack: asked.ack, args: ["yes"] });
    assert.equal(await answer, "yes");
  });

  test("rooms and broadcasts reach bare clients and socket.io-client alike", async () => {
    const srv = await start();
    const client = bare();
    await client.next((f) => "connected" in f);
    client.send({ event: "join", args: ["lobby"] });
    const official = srv.client("/");
    await connected(official);
    official.emit("join", "lobby");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const news = waitFor<[string]>(official, "news");
    srv.io.to("lobby").emit("news", "hi all");
    assert.deepEqual(await client.next((f) => f.event === "news"), {
      event: "news",
      args: ["hi all"],
    });
    // socket.io-client shows the recovery offset as one more argument; the bare client does not.
    assert.equal((await news)[0], "hi all");
  });

  test("namespaces: middleware with auth, connect_error, and joining by sending an event", async () => {
    const srv = await start();
    srv.io.of("/secure").use((socket, next) => {
      const auth = socket.handshake.auth as { token?: string };
      next(
        auth.token === "s3cret" ? undefined : Object.assign(new Error("bad token"), { data: 1 }),
      );
    });
    srv.io.of("/secure").on("connection", (socket) => socket.emit("welcome"));
    srv.io.of("/chat").on("connection", (socket) => {
      socket.on("say", (text: string) => socket.emit("said", text.toUpperCase()));
    });
    const client = bare("/ws?nsp=");
    await client.opened();
    client.send({ connect: "/secure", auth: { token: "wrong" } });
    assert.deepEqual(await client.next((f) => "connect_error" in f), {
      connect_error: "/secure",
      message: "bad token",
      data: 1,
    });
    client.send({ connect: "/secure", auth: { token: "s3cret" } });
    await client.next((f) => f.connected === "/secure");
    assert.deepEqual(await client.next((f) => f.event === "welcome"), {
      event: "welcome",
      args: [],
      nsp: "/secure",
    });
    // No connect first: the event joins /chat, then is handled, in order.
    client.send({ event: "say", args: ["a"], nsp: "/chat" });
    client.send({ event: "say", args: ["b"], nsp: "/chat" });
    await client.next((f) => f.connected === "/chat");
    assert.equal((await client.next((f) => f.event === "said")).args?.toString(), "A");
    assert.equal((await client.next((f) => f.event === "said")).args?.toString(), "B");
    assert.equal(srv.io.of("/").sockets.size, 0); // ?nsp= (empty): the main one was not joined
  });

  test("binary values travel as {$binary: base64} both ways", async () => {
    const srv = await start();
    srv.io.on("connection", (socket) => {
      socket.on("size", (data: unknown, ack: (n: unknown) => void) =>
        ack(Buffer.isBuffer(data) ? data.length : "not a buffer"),
      );
      socket.emit("bytes", Buffer.from([1, 2, 3]));
    });
    const client = bare();
    assert.deepEqual(await client.next((f) => f.event === "bytes"), {
      event: "bytes",
      args: [{ $binary: "AQID" }],
    });
    client.send({ event: "size", args: [{ $binary: "AQIDBA==" }], ack: 1 });
    assert.deepEqual(await client.next((f) => f.ack === 1), { ack: 1, args: [4] });
  });

  for (const [name, input, code] of [
    ["invalid JSON", "{nope", "SB_ERR_INVALID_JSON"],
    ["not an object", "[1,2]", "SB_ERR_INVALID_PAYLOAD"],
    ["no event, ack or connect", '{"args":[]}', "SB_ERR_INVALID_PAYLOAD"],
    ["a reserved event name", '{"event":"connect"}', "SB_ERR_INVALID_PAYLOAD"],
    ["a bad ack id", '{"event":"e","ack":-1}', "SB_ERR_INVALID_ACK_ID"],
    ["a bad namespace", '{"connect":"chat"}', "SB_ERR_INVALID_NAMESPACE"],
    [
      "deep nesting",
      `{"event":"e","args":${"[".repeat(100)}${"]".repeat(100)}}`,
      "SB_ERR_NESTING_TOO_DEEP",
    ],
  ] as const) {
    test(`bad input (${name}): an error frame, close 1007, the others carry on`, async () => {
      const srv = await start();
      const reasons: string[] = [];
      srv.io.on("connection", (socket) => socket.on("disconnect", (r) => reasons.push(r)));
      const good = bare();
      const bad = bare();
      await good.next((f) => "connected" in f);
      await bad.next((f) => "connected" in f);
      const closed = bad.closed();
      bad.send(input);
      const error = (await bad.next((f) => "error" in f)).error as { code: string };
      assert.equal(error.code, code);
      assert.equal((await closed).code, 1007);
      good.send({ event: "echo", args: ["still here"], ack: 1 });
      assert.deepEqual(await good.next((f) => f.ack === 1), { ack: 1, args: ["still here"] });
      assert.deepEqual(reasons, ["parse error"]);
    });
  }

  test("a binary frame is refused with a clear error", async () => {
    await start();
    const client = bare();
    await client.next((f) => "connected" in f);
    const closed = client.closed();
    client.ws.send(Buffer.from([1, 2, 3]));
    const error = (await client.next((f) => "error" in f)).error as { message: string };
    assert.match(error.message, /binary frames are not accepted/);
    assert.equal((await closed).code, 1007);
  });

  test("events waiting for a namespace join are bounded", async () => {
    const srv = await start();
    srv.io.of("/slow").use(() => {}); // never answers
    const client = bare("/ws?nsp=");
    await client.opened();
    const closed = client.closed();
    for (let i = 0; i <= 100; i++) client.send({ event: "e", args: [i], nsp: "/slow" });
    const error = (await client.next((f) => "error" in f)).error as { code: string };
    assert.equal(error.code, "SB_ERR_TOO_MANY_PACKETS");
    assert.equal((await closed).code, 1007);
  });

  test("heartbeat with WebSocket pings: a client that never pongs is dropped", async () => {
    const srv = await start({ pingInterval: 100, pingTimeout: 100 });
    const reasons: string[] = [];
    srv.io.on("connection", (socket) => socket.on("disconnect", (r) => reasons.push(r)));
    const alive = bare();
    const silent = bare("/ws", { autoPong: false });
    await alive.next((f) => "connected" in f);
    await silent.next((f) => "connected" in f);
    await silent.closed();
    assert.deepEqual(reasons, ["ping timeout"]);
    await new Promise((resolve) => setTimeout(resolve, 400)); // several intervals
    alive.send({ event: "echo", args: [1], ack: 2 });
    assert.deepEqual(await alive.next((f) => f.ack === 2), { ack: 2, args: [1] });
  });

  test("allowRequest applies to bare connections; the mode is off by default", async () => {
    await start({ allowRequest: (_req, fn) => fn("no", false) });
    const refused = bare();
    const status = await new Promise<number>((resolve) =>
      refused.ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    assert.equal(status, 403);
    await server?.close();
    server = await startServer({});
    const off = bare();
    const error = await new Promise<Error>((resolve) => off.ws.once("error", resolve));
    assert.ok(error instanceof Error);
  });

  const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
  test("the browser's own WebSocket", {
    skip: CHROMIUM ? false : "no Chromium installed",
  }, async () => {
    const srv = await start();
    srv.http.prependListener("request", (req, res) => {
      if (req.url === "/")
        res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html>");
    });
    srv.io.on("connection", (socket) => socket.emit("hello", "browser"));
    const browser = await chromium.launch({
      executablePath: CHROMIUM ?? "",
      args: ["--no-sandbox"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${srv.url}/`);
      const frames = await page.evaluate(
        (url) =>
          new Promise<unknown[]>((resolve, reject) => {
            const got: unknown[] = [];
            const ws = new WebSocket(url);
            ws.onerror = () => reject(new Error("websocket error"));
            ws.onmessage = (e) => {
              const frame = JSON.parse(String(e.data));
              got.push(frame);
              if (frame.event === "hello")
                ws.send(JSON.stringify({ event: "echo", args: ["from page"], ack: 1 }));
              if (frame.ack === 1) resolve(got);
            };
          }),
        `ws://127.0.0.1:${srv.port}/ws`,
      );
      assert.deepEqual(frames.slice(1), [
        { event: "hello", args: ["browser"] },
        { ack: 1, args: ["from page"] },
      ]);
    } finally {
      await browser.close();
    }
  });
});

test("the chat demo takes plain WebSocket clients", async () => {
  const { startDemo } = await import("../src/cli/demo.js");
  const { io, port } = await startDemo(0);
  const client = new Bare(`ws://127.0.0.1:${port}/ws?name=bob`);
  try {
    await client.next((f) => f.event === "history");
    client.send({ event: "chat", args: [{ text: "hello from a raw socket" }] });
    const chat = await client.next((f) => f.event === "chat");
    const [message] = chat.args as [{ from: string; text: string }];
    assert.equal(message.from, "bob");
    assert.equal(message.text, "hello from a raw socket");
  } finally {
    client.ws.terminate();
    await io.close();
  }
});
