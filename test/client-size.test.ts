import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
// @ts-expect-error the build script is plain JavaScript without type declarations
import { bundle, bundles, gzipSize } from "../scripts/build-client.mjs";
import type { io as Io } from "../src/client/index.js";

interface Bundle {
  entry: string;
  out: string;
  budget: number;
}

describe("browser bundle size", () => {
  for (const b of bundles as Bundle[]) {
    it(`${b.out} stays within ${b.budget} bytes gzipped`, async () => {
      const bytes = (await bundle(b.entry)) as Uint8Array;
      const size = gzipSize(bytes) as number;
      console.log(`${b.out}: ${bytes.length} B minified, ${size} B gzip -9 (budget ${b.budget} B)`);
      assert.ok(size <= b.budget, `${size} B gzipped is over the ${b.budget} B budget`);
      const text = new TextDecoder().decode(bytes);
      // The browser bundle must not carry the Node fallback itself...
      assert.ok(!text.includes("permessage-deflate"));
      // ...nor the code that loads it: `isNode` is false in the bundles.
      assert.doesNotMatch(text, /import\(|_socket|cork/);
    });
  }
});

// The minifier renames classes: an error's `name` must not come from its class's name.
describe("errors from the browser bundles", () => {
  let wss: WebSocketServer;
  let url: string;
  const sockets: ReturnType<typeof Io>[] = [];
  const hadWebSocket = "WebSocket" in globalThis;

  before(async () => {
    // The bundles use the platform WebSocket, which Node 20 lacks: `ws` stands in for it.
    if (!hadWebSocket) Object.assign(globalThis, { WebSocket });
    // An Engine.IO server that opens the session, then answers the namespace CONNECT with a
    // refusal (`?refuse`) or a malformed packet.
    wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    wss.on("connection", (ws, req) => {
      ws.send('0{"sid":"s","upgrades":[],"pingInterval":10000,"pingTimeout":10000}');
      ws.on("message", (data) => {
        if (String(data) !== "40") return;
        ws.send(req.url?.includes("refuse") ? '44{"message":"refused"}' : "4not a packet");
      });
    });
  });

  after(async () => {
    for (const s of sockets) s.io.disconnect();
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
    if (!hadWebSocket) Reflect.deleteProperty(globalThis, "WebSocket");
  });

  for (const b of bundles as Bundle[]) {
    it(`${b.out}: each error is named after its class`, async () => {
      const bytes = (await bundle(b.entry)) as Uint8Array;
      const src = `data:text/javascript;base64,${Buffer.from(bytes).toString("base64")}`;
      const { io } = (await import(src)) as { io: typeof Io };
      const open = (uri: string, opts: Parameters<typeof Io>[1] = {}) => {
        const s = io(uri, {
          forceNew: true,
          reconnection: false,
          transports: ["websocket"],
          ...opts,
        });
        sockets.push(s);
        return s;
      };
      const connectError = (uri: string) =>
        new Promise<Error>((resolve) => open(uri).once("connect_error", resolve));
      const ackTimeout = new Promise<Error>((resolve) =>
        open(url, { autoConnect: false }).timeout(1).emit("x", resolve),
      );
      const refused = open(url, { autoConnect: false, maxBufferedPackets: 0 })
        .emitWithAck("x")
        .then(
          () => new Error("acknowledged"),
          (err: Error) => err,
        );
      const errors = await Promise.all([
        ackTimeout,
        refused,
        connectError(`${url}/?refuse`),
        connectError(url),
      ]);
      assert.deepEqual(
        errors.map((e) => [e instanceof Error, e.name, (e as Error & { code: string }).code]),
        [
          [true, "TimeoutError", "SB_ERR_ACK_TIMEOUT"],
          [true, "TransportError", "SB_ERR_TRANSPORT_CLOSED"],
          [true, "HandshakeError", "SB_ERR_MIDDLEWARE_REFUSED"],
          [true, "ProtocolError", "SB_ERR_INVALID_PACKET"],
        ],
      );
    });
  }
});
