import assert from "node:assert/strict";
import { Agent } from "node:http";
import { describe, it } from "node:test";
import { HttpsProxyAgent } from "https-proxy-agent";
import { type DisconnectReason, io, type Manager, type Socket } from "../src/client/index.js";

interface ServerToClient {
  chat(msg: string): void;
  count(n: number, ack: (ok: boolean) => void): void;
}
interface ClientToServer {
  join(room: string, ack: (members: number) => void): void;
  leave(room: string): void;
}

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_: T) => {};

// Never called: the compiler checks these lines (`npm run lint` runs tsc over test/).
function typed(socket: Socket<ServerToClient, ClientToServer>, manager: Manager) {
  socket.on("chat", (msg) => expectType<Equal<typeof msg, string>>(true));
  socket.on("count", (n, ack) => ack(n > 0));
  // @ts-expect-error the listener's parameter does not match the event
  socket.on("chat", (_msg: number) => {});
  // @ts-expect-error not a listen event
  socket.on("join", () => {});
  socket.on("disconnect", (reason) => expectType<Equal<typeof reason, DisconnectReason>>(true));
  socket.on("connect_error", (err) => expectType<Equal<typeof err.data, unknown>>(true));
  socket.emit("leave", "lobby");
  // @ts-expect-error wrong argument type
  socket.emit("leave", 1);
  // @ts-expect-error not an emit event
  socket.emit("chat", "hi");
  socket.emit("join", "lobby", (members) => expectType<Equal<typeof members, number>>(true));
  socket.timeout(100).emit("join", "lobby", (err, members) => {
    expectType<Equal<typeof err, Error | null>>(true);
    expectType<Equal<typeof members, number>>(true);
  });
  // @ts-expect-error after timeout() the ack receives an error first
  socket.timeout(100).emit("join", "lobby", (members: number) => members);
  expectType<Equal<ReturnType<typeof socket.emitWithAck<"join">>, Promise<number>>>(true);
  const viaTimeout = socket.timeout(100).emitWithAck("join", "lobby");
  expectType<Equal<typeof viaTimeout, Promise<number>>>(true);
  manager.on("reconnect_attempt", (n) => expectType<Equal<typeof n, number>>(true));
  // @ts-expect-error not a Manager event
  manager.on("connect", () => {});
}

// Node's agents, a proxy agent among them, are accepted as `agent`; other values are not.
function agents() {
  io("http://127.0.0.1", { agent: new Agent({ keepAlive: true }) });
  io("http://127.0.0.1", { agent: new HttpsProxyAgent("http://127.0.0.1:3128") });
  io("http://127.0.0.1", { agent: false });
  // @ts-expect-error not an agent
  io("http://127.0.0.1", { agent: "http://proxy" });
}

function untyped(socket: Socket) {
  socket.emit("anything", 1, { a: 2 }, () => {});
  socket.on("anything", (a, b) => {
    expectType<Equal<typeof a, unknown>>(true);
    expectType<Equal<typeof b, unknown>>(true);
  });
  const reply = socket.emitWithAck("anything");
  expectType<Equal<typeof reply, Promise<unknown>>>(true);
}

describe("client typed events", () => {
  it("are checked by the compiler", () => {
    assert.equal(typeof typed, "function");
    assert.equal(typeof agents, "function");
    assert.equal(typeof untyped, "function");
  });
});
