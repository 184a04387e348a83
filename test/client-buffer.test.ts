import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { Socket as ServerSocket } from "socket.io";
import { cleanup, connect, startOfficial, waitFor } from "./client-helpers.js";

afterEach(cleanup);

/** Collects the values of event `ev` the server receives, with an ack-able barrier. */
function collect(server: Awaited<ReturnType<typeof startOfficial>>, ev: string): unknown[] {
  const got: unknown[] = [];
  server.io.on("connection", (peer: ServerSocket) => {
    peer.on(ev, (v: unknown) => got.push(v));
    peer.on("barrier", (ack: () => void) => ack());
  });
  return got;
}

describe("offline buffer", () => {
  it("buffers emits until connected; volatile emits are dropped instead", async () => {
    const server = await startOfficial();
    const got = collect(server, "v");
    const socket = connect(server.url, { autoConnect: false });
    socket.emit("v", 1);
    socket.volatile.emit("v", "dropped");
    socket.emit("v", 2);
    assert.equal(socket.sendBuffer.length, 2);
    socket.connect();
    await waitFor(socket, "connect");
    socket.volatile.emit("v", 3); // connected: volatile goes out
    await socket.emitWithAck("barrier");
    assert.deepEqual(got, [1, 2, 3]);
  });

  it("refuses emits beyond maxBufferedPackets and keeps the buffered ones in order", async () => {
    const server = await startOfficial();
    const got = collect(server, "v");
    const socket = connect(server.url, { autoConnect: false, maxBufferedPackets: 3 });
    for (let i = 0; i < 5; i++) socket.emit("v", i);
    assert.deepEqual(
      socket.sendBuffer.map((p) => (p.data as unknown[])[1]),
      [0, 1, 2],
    );
    await assert.rejects(socket.emitWithAck("v", 99), {
      name: "TransportError",
      message: /maxBufferedPackets/,
    });
    socket.connect();
    await waitFor(socket, "connect");
    await socket.emitWithAck("barrier");
    assert.deepEqual(got, [0, 1, 2]);
  });

  it("drops a timed-out buffered emit so it is never sent", async () => {
    const server = await startOfficial();
    const got = collect(server, "v");
    const socket = connect(server.url, { autoConnect: false });
    await assert.rejects(socket.timeout(20).emitWithAck("v", "late"), { name: "TimeoutError" });
    socket.emit("v", "kept");
    socket.connect();
    await waitFor(socket, "connect");
    await socket.emitWithAck("barrier");
    assert.deepEqual(got, ["kept"]);
  });
});

describe("ackTimeout and retries", () => {
  it("re-sends until acknowledged, one emit at a time, in order", async () => {
    const server = await startOfficial();
    const seen: unknown[] = [];
    server.io.on("connection", (peer: ServerSocket) => {
      let calls = 0;
      peer.on("job", (v: string, ack: (r: string) => void) => {
        seen.push(v);
        // Ignore the first two attempts of the first job.
        if (v === "a" && ++calls <= 2) return;
        ack(`done ${v}`);
      });
    });
    const socket = connect(server.url, { ackTimeout: 50, retries: 3 });
    await waitFor(socket, "connect");
    const results = await Promise.all([
      new Promise((resolve) =>
        socket.emit("job", "a", (err: unknown, r: unknown) => resolve([err, r])),
      ),
      socket.emitWithAck("job", "b"),
    ]);
    assert.deepEqual(results, [[null, "done a"], "done b"]);
    assert.deepEqual(seen, ["a", "a", "a", "b"]);
  });

  it("gives up after the retries with a TimeoutError", async () => {
    const server = await startOfficial();
    let attempts = 0;
    server.io.on("connection", (peer: ServerSocket) => {
      peer.on("job", () => attempts++);
      peer.on("barrier", (ack: () => void) => ack());
    });
    const socket = connect(server.url, { ackTimeout: 20, retries: 2 });
    await waitFor(socket, "connect");
    await assert.rejects(socket.emitWithAck("job"), { name: "TimeoutError" });
    await socket.timeout(1000).emitWithAck("barrier");
    assert.equal(attempts, 3);
  });

  it("keeps retrying across a reconnection", async () => {
    const first = await startOfficial();
    const socket = connect(first.url, {
      ackTimeout: 200,
      retries: 5,
      reconnection: true,
      reconnectionDelay: 20,
      reconnectionDelayMax: 40,
      transports: ["websocket"],
    });
    await waitFor(socket, "connect");
    const gone = waitFor(socket, "disconnect");
    await first.close();
    await gone;
    const reply = socket.emitWithAck("job", 7);
    const second = await startOfficial({}, first.port);
    second.io.on("connection", (peer: ServerSocket) =>
      peer.on("job", (n: number, ack: (r: number) => void) => ack(n * 6)),
    );
    assert.equal(await reply, 42);
  });
});
