import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import type { Socket as ServerSocket } from "socket.io";
import type { Socket } from "../src/client/index.js";
import { cleanup, connect, startOfficial, waitFor } from "./client-helpers.js";

afterEach(cleanup);

/** Our client connected to a fresh official server, and the server's side of it. */
async function pair(transports = ["websocket"]): Promise<[Socket, ServerSocket]> {
  const server = await startOfficial();
  const serverSide = waitFor<[ServerSocket]>(server.io, "connection");
  const socket = connect(server.url, { transports });
  await waitFor(socket, "connect");
  const [peer] = await serverSide;
  return [socket, peer];
}

for (const transports of [["websocket"], ["polling"]]) {
  describe(`events and acks over ${transports[0]}`, () => {
    it("acknowledges both ways", async () => {
      const [socket, peer] = await pair(transports);
      peer.on("add", (a: number, b: number, ack: (sum: number) => void) => ack(a + b));
      const sum = await new Promise((resolve) => socket.emit("add", 2, 3, resolve));
      assert.equal(sum, 5);

      socket.on("question", (q: unknown, ack: unknown) => (ack as (a: string) => void)(`re: ${q}`));
      const answer = await peer.timeout(2000).emitWithAck("question", "why");
      assert.equal(answer, "re: why");
    });

    it("resolves emitWithAck and rejects it on timeout", async () => {
      const [socket, peer] = await pair(transports);
      peer.on("double", (n: number, ack: (v: number) => void) => ack(n * 2));
      peer.on("ignore", () => {});
      assert.equal(await socket.emitWithAck("double", 21), 42);
      await assert.rejects(socket.timeout(50).emitWithAck("ignore"), {
        name: "TimeoutError",
        code: "SB_ERR_ACK_TIMEOUT",
      });
    });

    it("gives timed acks an error first", async () => {
      const [socket, peer] = await pair(transports);
      peer.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v));
      peer.on("ignore", () => {});
      const ok = await new Promise((resolve) =>
        socket.timeout(1000).emit("echo", "x", (err: unknown, v: unknown) => resolve([err, v])),
      );
      assert.deepEqual(ok, [null, "x"]);
      const late = await new Promise<unknown[]>((resolve) =>
        socket.timeout(30).emit("ignore", (...args: unknown[]) => resolve(args)),
      );
      assert.equal(late.length, 1);
      assert.equal((late[0] as Error).name, "TimeoutError");
    });

    it("carries binary both ways: Buffer, ArrayBuffer, typed arrays, nested", async () => {
      const [socket, peer] = await pair(transports);
      const received = waitFor<unknown[]>(peer, "bin");
      const ab = new Uint8Array([9, 8, 7]).buffer;
      socket.emit("bin", Buffer.from([1, 2, 3]), ab, { deep: [new Uint16Array([258])] }, "text");
      const [buf, ab2, nested, text] = await received;
      assert.deepEqual([...(buf as Buffer)], [1, 2, 3]);
      assert.deepEqual([...(ab2 as Buffer)], [9, 8, 7]);
      assert.deepEqual([...((nested as { deep: Buffer[] }).deep[0] as Buffer)], [2, 1]);
      assert.equal(text, "text");

      const back = waitFor<unknown[]>(socket, "bin-back");
      peer.emit("bin-back", Buffer.from([4, 5]), { list: [Buffer.from([6]), "x"] });
      const [b1, obj] = await back;
      assert.ok(b1 instanceof Uint8Array);
      assert.deepEqual([...b1], [4, 5]);
      const list = (obj as { list: unknown[] }).list;
      assert.deepEqual([...(list[0] as Uint8Array)], [6]);
      assert.equal(list[1], "x");
    });

    it("sends Blobs after reading them, in order with other emits", async () => {
      const [socket, peer] = await pair(transports);
      const got: unknown[] = [];
      const done = new Promise<void>((resolve) =>
        peer.onAny((ev: string, ...args: unknown[]) => {
          got.push([ev, ...args.map((a) => (Buffer.isBuffer(a) ? [...a] : a))]);
          if (got.length === 3) resolve();
        }),
      );
      socket.emit("a", 1);
      socket.emit("b", new Blob([new Uint8Array([1, 2])]));
      socket.emit("c", 3);
      await done;
      assert.deepEqual(got, [
        ["a", 1],
        ["b", [1, 2]],
        ["c", 3],
      ]);
    });

    it("acks with binary", async () => {
      const [socket, peer] = await pair(transports);
      peer.on("get", (ack: (b: Buffer) => void) => ack(Buffer.from([7, 7])));
      const reply = (await socket.emitWithAck("get")) as Uint8Array;
      assert.deepEqual([...reply], [7, 7]);
    });

    it("carries 100 KB of binary both ways, a view into a larger buffer included", async () => {
      const [socket, peer] = await pair(transports);
      peer.on("echo", (b: Buffer, ack: (b: Buffer) => void) => ack(b));
      const backing = new Uint8Array(100_010);
      for (let i = 0; i < backing.length; i++) backing[i] = (i * 7 + (i >> 8)) & 0xff;
      const view = backing.subarray(5, 100_005); // only its own bytes go out
      const reply = (await socket.emitWithAck("echo", view)) as Uint8Array;
      assert.equal(reply.length, view.length);
      assert.ok(Buffer.from(reply).equals(Buffer.from(view)), "the bytes came back as sent");
    });
  });
}

describe("event listeners", () => {
  it("onAny, prependAny, offAny and outgoing listeners see events", async () => {
    const [socket, peer] = await pair();
    const seen: unknown[] = [];
    const any = (...args: unknown[]) => seen.push(["any", ...args]);
    socket.onAny(any);
    socket.prependAny((...args) => seen.push(["first", ...args]));
    const out: unknown[] = [];
    const outgoing = (...args: unknown[]) => out.push(args);
    socket.onAnyOutgoing(outgoing);
    const msg = waitFor(socket, "msg");
    peer.emit("msg", 1);
    await msg;
    assert.deepEqual(seen, [
      ["first", "msg", 1],
      ["any", "msg", 1],
    ]);
    socket.offAny(any);
    socket.emit("up", "x");
    socket.offAnyOutgoing(outgoing);
    socket.emit("up", "y");
    assert.deepEqual(out, [["up", "x"]]);
  });

  it("once, off and listeners behave as an emitter's", async () => {
    const [socket, peer] = await pair();
    const calls: unknown[] = [];
    const once = (v: unknown) => calls.push(["once", v]);
    socket.once("tick", once);
    const on = (v: unknown) => calls.push(["on", v]);
    socket.on("tick", on);
    assert.equal(socket.listeners("tick").length, 2);
    for (const n of [1, 2]) {
      const tick = waitFor(socket, "tick");
      peer.emit("tick", n);
      await tick;
    }
    socket.off("tick", on);
    assert.equal(socket.listeners("tick").length, 0);
    assert.deepEqual(calls, [
      ["once", 1],
      ["on", 1],
      ["on", 2],
    ]);
  });

  it("refuses to emit reserved event names", async () => {
    const [socket] = await pair();
    assert.throws(() => socket.emit("connect"), /reserved/);
    assert.throws(() => socket.emit("disconnect"), /reserved/);
  });
});
