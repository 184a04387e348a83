import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { Socket as ServerSocket } from "socket.io";
import { cleanup, connect, startOfficial, waitFor } from "./client-helpers.js";

afterEach(cleanup);

const fast = { reconnection: true, reconnectionDelay: 20, reconnectionDelayMax: 40 };

describe("reconnection", () => {
  for (const transports of [["websocket"], ["polling", "websocket"], ["polling"]]) {
    it(`delivers emits buffered while the server was down exactly once, in order (${transports})`, async () => {
      const first = await startOfficial();
      const socket = connect(first.url, { ...fast, transports });
      await waitFor(socket, "connect");
      const attempts: number[] = [];
      socket.io.on("reconnect_attempt", (n) => attempts.push(n));

      const gone = waitFor(socket, "disconnect");
      await first.close();
      const [reason] = await gone;
      assert.ok(reason === "transport close" || reason === "transport error", String(reason));
      for (let i = 0; i < 20; i++) socket.emit("n", i);
      assert.equal(socket.sendBuffer.length, 20);

      const second = await startOfficial({}, first.port);
      const received: number[] = [];
      const all = new Promise<void>((resolve) =>
        second.io.on("connection", (peer: ServerSocket) => {
          peer.on("n", (i: number) => {
            received.push(i);
            if (received.length === 20) resolve();
          });
          peer.on("barrier", (ack: () => void) => ack());
        }),
      );
      const [attempt] = await waitFor<[number]>(socket.io, "reconnect");
      await all;
      assert.deepEqual(
        received,
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.equal(socket.sendBuffer.length, 0);
      assert.ok(attempt >= 1 && attempts.length >= 1);
      // Nothing arrives twice: a round trip after the flush sees the same 20.
      await socket.emitWithAck("barrier");
      assert.equal(received.length, 20);
    });
  }

  it("re-evaluates the auth function and answers acks of buffered emits", async () => {
    const first = await startOfficial();
    let n = 0;
    const socket = connect(first.url, { ...fast, auth: (cb) => cb({ n: ++n }) });
    await waitFor(socket, "connect");
    const gone = waitFor(socket, "disconnect");
    await first.close();
    await gone;
    const ack = socket.emitWithAck("hello", "again");
    const second = await startOfficial({}, first.port);
    second.io.on("connection", (peer) => {
      peer.on("hello", (v: string, cb: (r: unknown) => void) => cb([v, peer.handshake.auth]));
    });
    assert.deepEqual(await ack, ["again", { n: 2 }]);
  });

  it("uses the backoff option and stops after reconnectionAttempts", async () => {
    const server = await startOfficial();
    const url = server.url;
    await server.close();
    const delays: number[] = [];
    const socket = connect(url, {
      reconnection: true,
      reconnectionAttempts: 3,
      backoff: (attempt) => {
        delays.push(attempt);
        return 1;
      },
    });
    const errors: unknown[] = [];
    socket.io.on("reconnect_error", (err) => errors.push(err));
    await waitFor(socket.io, "reconnect_failed");
    assert.deepEqual(delays, [0, 1, 2]);
    assert.equal(errors.length, 3);
  });

  it("reconnects at once when the browser goes back online", async (t) => {
    // Node has no window events: stand in for them while this test runs.
    const target = new EventTarget();
    const g = globalThis as { addEventListener?: unknown; removeEventListener?: unknown };
    g.addEventListener = target.addEventListener.bind(target);
    g.removeEventListener = target.removeEventListener.bind(target);
    t.after(() => {
      delete g.addEventListener;
      delete g.removeEventListener;
    });
    const first = await startOfficial();
    const socket = connect(first.url, {
      reconnection: true,
      reconnectionDelay: 60_000,
      reconnectionDelayMax: 60_000,
      randomizationFactor: 0,
    });
    await waitFor(socket, "connect");
    const gone = waitFor(socket, "disconnect");
    await first.close();
    await gone;
    await startOfficial({}, first.port);
    const back = waitFor(socket, "connect", 1000);
    target.dispatchEvent(new Event("online"));
    await back;
  });

  it("recovers the session with the server's connection state recovery", async () => {
    const server = await startOfficial({ connectionStateRecovery: {} });
    const peers: ServerSocket[] = [];
    server.io.on("connection", (peer) => peers.push(peer));
    const socket = connect(server.url, { ...fast, transports: ["websocket"] });
    const got: unknown[] = [];
    socket.on("news", (v) => got.push(v));
    await waitFor(socket, "connect");
    assert.equal(socket.recovered, false);
    const firstNews = waitFor(socket, "news");
    server.io.emit("news", 1);
    await firstNews;
    const id = socket.id;

    const gone = waitFor(socket, "disconnect");
    peers[0]!.conn.close();
    await gone;
    server.io.emit("news", 2); // missed while disconnected
    await waitFor(socket, "connect");
    assert.equal(socket.recovered, true);
    assert.equal(socket.id, id);
    if (got.length < 2) await waitFor(socket, "news");
    assert.deepEqual(got, [1, 2]);
  });
});
