// Type tests, checked by `tsc` in `npm run lint`: what must compile compiles, and each
// line marked as an expected error must fail to compile. Also run as a plain test.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Server, Socket } from "../src/server/index.js";

interface ClientToServer {
  chat(msg: string, ack: (ok: boolean) => void): void;
  move(x: number, y: number): void;
}
interface ServerToClient {
  chat(from: string, msg: string): void;
  question(q: string, ack: (answer: number) => void): void;
}
interface InterServer {
  sync(version: number): void;
}
interface Data {
  user: string;
}

/** Exact type equality, as a compile-time assertion. */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

function typedServer(io: Server<ClientToServer, ServerToClient, InterServer, Data>): void {
  io.on("connection", (socket) => {
    expectType<Equal<typeof socket, Socket<ClientToServer, ServerToClient, InterServer, Data>>>();
    socket.on("chat", (msg, ack) => {
      expectType<Equal<typeof msg, string>>();
      ack(true);
      // @ts-expect-error the ack takes a boolean
      ack("yes");
    });
    socket.on("move", (x, y) => expectType<Equal<[typeof x, typeof y], [number, number]>>());
    socket.on("disconnect", (reason) =>
      expectType<Equal<typeof reason, import("../src/server/index.js").DisconnectReason>>(),
    );
    // @ts-expect-error unknown event for this map
    socket.on("nope", () => {});
    socket.emit("chat", "server", "hello");
    // @ts-expect-error wrong argument type
    socket.emit("chat", "server", 42);
    // @ts-expect-error unknown event
    socket.emit("unknown");
    socket.emit("question", "6x7?", (answer) => expectType<Equal<typeof answer, number>>());
    const answer = socket.timeout(1000).emitWithAck("question", "6x7?");
    expectType<Equal<typeof answer, Promise<number>>>();
    expectType<Equal<typeof socket.data, Data>>();
    socket.data.user = "ada";
  });
  io.to("room").emit("chat", "a", "b");
  // @ts-expect-error wrong arity
  io.to("room").emit("chat", "a");
  const all = io.timeout(100).emitWithAck("question", "?");
  expectType<Equal<typeof all, Promise<number[]>>>();
  io.on("sync", (version) => expectType<Equal<typeof version, number>>());
  io.serverSideEmit("sync", 2);
  // @ts-expect-error wrong server-side argument
  io.serverSideEmit("sync", "2");
}

function untypedServer(io: Server): void {
  io.on("connection", (socket) => {
    // Untyped events: arguments are unknown unless annotated.
    socket.on("anything", (value) => expectType<Equal<typeof value, unknown>>());
    socket.on("annotated", (a: string, b: number) => [a, b]);
    socket.emit("whatever", 1, "two", { three: 3 });
    socket.data.anything = 1;
  });
}

test("type tests compile (checked by tsc in npm run lint)", () => {
  assert.equal(typeof typedServer, "function");
  assert.equal(typeof untypedServer, "function");
});
