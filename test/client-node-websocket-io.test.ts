/**
 * The client (`io`, websocket only) over its own Node WebSocket (src/client/node-websocket.ts),
 * against the official socket.io server and ours.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import type { Socket } from "../src/client/index.js";
import { Server } from "../src/server/index.js";
import { cleanup, connect, startOfficial, waitFor } from "./client-helpers.js";
import { asBytes, bytesOf, TEST } from "./support/raw-ws-server.js";

/** What the tests use of a server-side socket, on either server. */
interface Peer {
  handshake: { headers: Record<string, string | string[] | undefined> };
  conn: { close(): void };
  on(ev: string, fn: (...args: never[]) => void): unknown;
  onAny(fn: (ev: string, ...args: unknown[]) => void): unknown;
}

interface Host {
  url: string;
  onConnection(fn: (peer: Peer) => void): void;
  disconnectSockets(): void;
}

const ourServers = new Set<Server>();

afterEach(async () => {
  await cleanup();
  await Promise.all([...ourServers].map((s) => s.close()));
  ourServers.clear();
});

const hosts: { name: string; start(): Promise<Host> }[] = [
  {
    name: "the official socket.io server",
    async start() {
      const server = await startOfficial();
      return {
        url: server.url,
        onConnection: (fn) => server.io.on("connection", (peer) => fn(peer as unknown as Peer)),
        disconnectSockets: () => server.io.disconnectSockets(true),
      };
    },
  },
  {
    name: "the Switchboard server",
    async start() {
      const http = createHttpServer();
      const server = new Server(http);
      ourServers.add(server);
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
      return {
        url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
        onConnection: (fn) => server.on("connection", (peer) => fn(peer as unknown as Peer)),
        disconnectSockets: () => server.disconnectSockets(true),
      };
    },
  },
];

/** Server-side echo handlers: `echo` acks its argument, `bytes` acks a binary's bytes. */
function serveEcho(peer: Peer): void {
  peer.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
  peer.on("bytes", (v: Uint8Array, ack: (v: number[]) => void) => ack([...v]));
}

for (const { name, start } of hosts) {
  describe(`io() over websocket against ${name}`, () => {
    async function pair(opts: Parameters<typeof connect>[1] = {}): Promise<[Socket, Peer, Host]> {
      const host = await start();
      const peers: Peer[] = [];
      host.onConnection((peer) => {
        serveEcho(peer);
        peers.push(peer);
      });
      const socket = connect(host.url, { transports: ["websocket"], ...opts });
      await waitFor(socket, "connect");
      assert.equal(socket.io.engine?.transport.name, "websocket");
      return [socket, peers[0]!, host];
    }

    it("round-trips a string with emitWithAck", TEST, async () => {
      const [socket] = await pair();
      assert.equal(await socket.emitWithAck("echo", "héllo ✓"), "héllo ✓");
    });

    it("round-trips a 300 KB string (64-bit frame lengths both ways)", TEST, async () => {
      const [socket] = await pair();
      const big = "ab€".repeat(100_000); // 300,000 characters, 500,000 bytes of UTF-8
      assert.equal(await socket.emitWithAck("echo", big), big);
    });

    it("round-trips binary: a Buffer, and 70,000 bytes", TEST, async () => {
      const [socket] = await pair();
      const small = (await socket.emitWithAck("echo", Buffer.from([0, 1, 128, 255]))) as unknown;
      assert.deepEqual([...asBytes(small as Uint8Array)], [0, 1, 128, 255]);
      const data = bytesOf(70_000);
      const back = (await socket.emitWithAck("echo", { data, label: "x" })) as {
        data: Uint8Array;
        label: string;
      };
      assert.ok(asBytes(back.data).equals(data));
      assert.equal(back.label, "x");
    });

    it("sends a Blob attachment's bytes, in order with the emits after it", TEST, async () => {
      const [socket, peer] = await pair();
      assert.deepEqual(
        await socket.emitWithAck("bytes", new Blob([new Uint8Array([5, 6]), "é"])),
        [5, 6, 0xc3, 0xa9],
      );
      const got: unknown[] = [];
      const done = new Promise<void>((resolve) =>
        peer.onAny((ev, ...args) => {
          got.push([ev, ...args.map((a) => (a instanceof Uint8Array ? [...a] : a))]);
          if (got.length === 4) resolve();
        }),
      );
      socket.emit("blob", new Blob([new Uint8Array(bytesOf(3000))]), "tail");
      socket.emit("plain", 1);
      socket.emit("blob", new Blob([new Uint8Array([1, 2, 3])]));
      socket.emit("plain", 2);
      await done;
      assert.deepEqual(got, [
        ["blob", [...bytesOf(3000)], "tail"],
        ["plain", 1],
        ["blob", [1, 2, 3]],
        ["plain", 2],
      ]);
    });

    it("sends extraHeaders with the upgrade request", TEST, async () => {
      const [, peer] = await pair({ extraHeaders: { "x-test": "yes", authorization: "Bearer t" } });
      assert.equal(peer.handshake.headers["x-test"], "yes");
      assert.equal(peer.handshake.headers.authorization, "Bearer t");
      assert.equal(peer.handshake.headers["sec-websocket-extensions"], undefined);
    });

    it("fails with connect_error on an invalid extraHeaders value", TEST, async () => {
      const host = await start();
      let connections = 0;
      host.onConnection(() => connections++);
      const extraHeaders = { "x-bad": "a\r\nInjected: yes" };
      const socket = connect(host.url, { transports: ["websocket"], extraHeaders });
      const [err] = await waitFor<[Error & { cause?: unknown }]>(socket, "connect_error");
      assert.match(String(err.cause), /invalid header "x-bad"/);
      assert.equal(socket.connected, false);
      assert.equal(connections, 0);
    });

    it("reconnects after socket.conn.close() on the server", TEST, async () => {
      const fast = { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 40 };
      const [socket, peer] = await pair(fast);
      const gone = waitFor<[string]>(socket, "disconnect");
      const back = gone.then(() => waitFor(socket, "connect"));
      peer.conn.close();
      assert.equal((await gone)[0], "transport close");
      await back;
      assert.equal(await socket.emitWithAck("echo", "again"), "again");
    });

    it("after disconnectSockets(true) stays disconnected, then connect() works", TEST, async () => {
      const fast = { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 40 };
      const [socket, , host] = await pair(fast);
      const gone = waitFor<[string]>(socket, "disconnect");
      host.disconnectSockets();
      // As in Socket.IO: a server-side disconnect is not retried automatically.
      assert.equal((await gone)[0], "io server disconnect");
      assert.equal(socket.connected, false);
      socket.connect();
      await waitFor(socket, "connect");
      assert.equal(await socket.emitWithAck("echo", "back"), "back");
    });
  });
}
