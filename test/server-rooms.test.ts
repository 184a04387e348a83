// Rooms and broadcasting with three official clients.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { Socket as ClientSocket } from "socket.io-client";
import type { Socket } from "../src/server/index.js";
import {
  closeClients,
  collect,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  closeClients();
  await server?.close();
  server = undefined;
});

/** Three clients, named a, b, c, whose server sockets joined the rooms given. */
async function threeClients(
  rooms: Record<string, string[]>,
): Promise<{ clients: Record<string, ClientSocket>; sockets: Record<string, Socket> }> {
  const sockets: Record<string, Socket> = {};
  server!.io.on("connection", (socket) => {
    const name = socket.handshake.auth.name as string;
    sockets[name] = socket;
    socket.join(rooms[name] ?? []);
  });
  const clients: Record<string, ClientSocket> = {};
  for (const name of ["a", "b", "c"]) clients[name] = server!.client("/", { auth: { name } });
  await Promise.all(Object.values(clients).map((c) => connected(c)));
  return { clients, sockets };
}

/** Records which of the clients get `ev` while `action` runs; a final marker flushes order. */
async function whoGets(
  clients: Record<string, ClientSocket>,
  ev: string,
  action: () => void,
): Promise<string[]> {
  const got: string[] = [];
  for (const [name, c] of Object.entries(clients)) c.on(ev, () => got.push(name));
  const markers = Object.values(clients).map((c) => waitFor(c, "marker"));
  action();
  server!.io.emit("marker");
  await Promise.all(markers);
  return got.sort();
}

describe("rooms", () => {
  test("to(room) reaches the members only", async () => {
    server = await startServer();
    const { clients } = await threeClients({ a: ["red"], b: ["red", "blue"], c: ["blue"] });
    assert.deepEqual(await whoGets(clients, "m", () => server!.io.to("red").emit("m")), ["a", "b"]);
    assert.deepEqual(await whoGets(clients, "n", () => server!.io.to(["red", "blue"]).emit("n")), [
      "a",
      "b",
      "c",
    ]);
  });

  test("except skips a room", async () => {
    server = await startServer();
    const { clients } = await threeClients({ a: ["red"], b: ["red", "blue"], c: ["blue"] });
    assert.deepEqual(await whoGets(clients, "m", () => server!.io.except("blue").emit("m")), ["a"]);
    assert.deepEqual(
      await whoGets(clients, "n", () => server!.io.to("red").except("blue").emit("n")),
      ["a"],
    );
  });

  test("socket.broadcast and socket.to skip the sender", async () => {
    server = await startServer();
    const { clients, sockets } = await threeClients({ a: ["red"], b: ["red"], c: [] });
    assert.deepEqual(await whoGets(clients, "m", () => sockets.a!.broadcast.emit("m")), ["b", "c"]);
    assert.deepEqual(await whoGets(clients, "n", () => sockets.a!.to("red").emit("n")), ["b"]);
  });

  test("leave, rooms and disconnect cleanup", async () => {
    server = await startServer();
    const { clients, sockets } = await threeClients({ a: ["red"], b: ["red"], c: [] });
    assert.deepEqual([...sockets.a!.rooms].sort(), [sockets.a!.id, "red"].sort());
    sockets.a!.leave("red");
    assert.deepEqual(await whoGets(clients, "m", () => server!.io.to("red").emit("m")), ["b"]);
    const gone = waitFor(sockets.b!, "disconnect");
    clients.b!.disconnect();
    await gone;
    assert.equal(server.io.sockets.adapter.rooms.has("red"), false);
  });

  test("fetchSockets, socketsJoin, socketsLeave, disconnectSockets", async () => {
    server = await startServer();
    const { clients, sockets } = await threeClients({ a: ["red"], b: ["red"], c: [] });
    sockets.a!.data.score = 7;
    const inRed = await server.io.in("red").fetchSockets();
    assert.deepEqual(inRed.map((s) => s.handshake.auth.name).sort(), ["a", "b"]);
    const remoteA = inRed.find((s) => s.id === sockets.a!.id)!;
    assert.equal((remoteA.data as { score: number }).score, 7);
    assert.ok(remoteA.rooms.has("red"));
    const direct = waitFor(clients.a!, "direct");
    remoteA.emit("direct", "hi");
    assert.equal((await direct)[0], "hi");

    server.io.in("red").socketsJoin("green");
    assert.deepEqual(await whoGets(clients, "g", () => server!.io.to("green").emit("g")), [
      "a",
      "b",
    ]);
    server.io.in("green").except("red").socketsLeave("green");
    server.io.socketsLeave("green");
    assert.deepEqual(await whoGets(clients, "h", () => server!.io.to("green").emit("h")), []);

    const reason = waitFor(clients.c!, "disconnect");
    server.io.except("red").disconnectSockets();
    assert.deepEqual(await reason, ["io server disconnect", undefined]);
    assert.equal(clients.a!.connected, true);
  });

  test("volatile packets are dropped when the transport is busy, regular ones never", async () => {
    server = await startServer();
    const socketReady = new Promise<Socket>((resolve) => server!.io.on("connection", resolve));
    const client = server.client("/", { transports: ["polling"] });
    const socket = await socketReady;
    await connected(client);
    const regular = collect(client, "regular", 20);
    for (let i = 0; i < 20; i++) socket.emit("regular", i);
    assert.deepEqual(await regular, [...Array(20).keys()]);
    let volatileCount = 0;
    client.on("v", () => volatileCount++);
    for (let i = 0; i < 20; i++) socket.volatile.emit("v", i);
    socket.emit("done");
    await waitFor(client, "done");
    assert.ok(
      volatileCount < 20,
      `expected some volatile packets dropped, got ${volatileCount}/20`,
    );
  });
});
