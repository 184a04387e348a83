/**
 * The browser bundles in a real Chromium (playwright-core, headless) against an official
 * socket.io server on the same origin. Skipped when no Chromium is installed.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import type { Socket as ServerSocket } from "socket.io";
// @ts-expect-error the build script is plain JavaScript without type declarations
import { bundle } from "../scripts/build-client.mjs";
import { cleanup, type OfficialServer, startOfficial } from "./client-helpers.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (p) => existsSync(p),
);

describe("client in a browser", { skip: CHROMIUM ? false : "no Chromium installed" }, () => {
  let browser: Browser;
  let server: OfficialServer;
  let page: Page;

  before(async () => {
    const files: Record<string, Uint8Array> = {
      "/full.js": await bundle("src/client/index.ts"),
      "/ws.js": await bundle("src/client/ws.ts"),
    };
    server = await startOfficial();
    // Serve the bundles and an empty page from the socket.io server's own HTTP server.
    server.http.prependListener("request", (req, res) => {
      const file = files[req.url ?? ""];
      if (file) res.writeHead(200, { "content-type": "text/javascript" }).end(file);
      else if (req.url === "/")
        res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html>");
    });
    server.io.on("connection", (peer: ServerSocket) => {
      peer.on("echo", (...args: unknown[]) => {
        const ack = args.pop() as (...a: unknown[]) => void;
        ack(...args);
      });
      peer.on("size", (b: Buffer, ack: (n: number) => void) => ack(b.length));
      peer.emit("hello", Buffer.from([1, 2, 3]));
    });
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ["--no-sandbox"] });
    page = await browser.newPage();
    await page.goto(`${server.url}/`);
  });

  after(async () => {
    await browser?.close();
    await cleanup();
  });

  for (const [file, transport] of [
    ["/full.js", "websocket"],
    ["/ws.js", "websocket"],
  ] as const) {
    it(`${file}: connects, acks, and carries binary (ArrayBuffer in, Blob out)`, async () => {
      const result = await page.evaluate(async (src) => {
        const { io } = await import(src);
        const socket = io({ forceNew: true, reconnection: false });
        const hello = await new Promise<unknown>((resolve) => socket.on("hello", resolve));
        const echoed = await socket.timeout(2000).emitWithAck("echo", "hi", { n: 1 });
        const size = await socket.emitWithAck("size", new Blob([new Uint8Array(5)]));
        // The full bundle starts on polling: wait (bounded) for its upgrade.
        for (let i = 0; i < 200 && socket.io.engine.transport.name !== "websocket"; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const name = socket.io.engine.transport.name;
        socket.disconnect();
        return { hello: Array.from(hello as Uint8Array), echoed, size, name };
      }, file);
      assert.deepEqual(result.hello, [1, 2, 3]);
      assert.equal(result.echoed, "hi");
      assert.equal(result.size, 5);
      assert.equal(result.name, transport);
    });
  }

  it("/full.js over polling only, with binary as base64", async () => {
    const result = await page.evaluate(async (src) => {
      const { io } = await import(src);
      const socket = io({ forceNew: true, reconnection: false, transports: ["polling"] });
      const hello = await new Promise<unknown>((resolve) => socket.on("hello", resolve));
      const size = await socket.emitWithAck("size", new Uint8Array(7));
      socket.disconnect();
      return { hello: Array.from(hello as Uint8Array), size };
    }, "/full.js");
    assert.deepEqual(result.hello, [1, 2, 3]);
    assert.equal(result.size, 7);
  });

  it("/full.js over polling carries 100 KB of binary both ways, every byte", async () => {
    // Base64 is built 8 KB at a time in browsers: the bytes cross many of those steps.
    const result = await page.evaluate(async (src) => {
      const { io } = await import(src);
      const socket = io({ forceNew: true, reconnection: false, transports: ["polling"] });
      const sent = new Uint8Array(100_003);
      for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 8)) & 0xff;
      const back = (await socket.emitWithAck("echo", sent)) as Uint8Array;
      socket.disconnect();
      let same = back.length === sent.length;
      for (let i = 0; same && i < sent.length; i++) same = back[i] === sent[i];
      return { length: back.length, same };
    }, "/full.js");
    assert.deepEqual(result, { length: 100_003, same: true });
  });

  it("ignores extraHeaders on the WebSocket instead of failing", async () => {
    const connected = await page.evaluate(async (src) => {
      const { io } = await import(src);
      const socket = io({ forceNew: true, reconnection: false, extraHeaders: { "x-a": "1" } });
      await new Promise((resolve, reject) => {
        socket.on("connect", resolve);
        socket.on("connect_error", reject);
      });
      socket.disconnect();
      return true;
    }, "/ws.js");
    assert.equal(connected, true);
  });
});
