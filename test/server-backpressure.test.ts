// Backpressure at the Socket.IO layer: a client that stops reading makes its socket
// congested; a paced producer awaits drained(); a producer that ignores it gets the client
// disconnected with "slow consumer", within the bound, while other clients carry on.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { Socket } from "../src/server/index.js";
import {
  closeClients,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";
import { closeRawClients, rawClient } from "./support/raw-client.js";

let server: TestServer | undefined;
afterEach(async () => {
  closeRawClients();
  closeClients();
  await server?.close();
  server = undefined;
});

const CHUNK = "x".repeat(16 * 1024);

async function slowSocket(s: TestServer): Promise<{ socket: Socket; resume: () => void }> {
  const joined = new Promise<Socket>((resolve) => s.io.once("connection", resolve));
  const raw = await rawClient(s.port);
  raw.ws.send("40");
  await raw.next((f) => f.startsWith("40{"));
  const socket = await joined;
  raw.ws.pause(); // stops reading its TCP socket
  return { socket, resume: () => raw.ws.resume() };
}

describe("server backpressure", () => {
  test("congested while the client does not read; drained() resolves once it reads again", async () => {
    server = await startServer({
      maxBufferedBytes: 64 * 1024 * 1024,
      connectionStateRecovery: false,
    });
    const { socket, resume } = await slowSocket(server);
    assert.equal(socket.congested, false);
    let sent = 0;
    while (!socket.congested && sent < 20_000) {
      socket.emit("chunk", CHUNK);
      sent++;
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(socket.congested, true, `not congested after ${sent} chunks`);
    let drained = false;
    const done = socket.drained().then(() => {
      drained = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drained, false); // nobody reads yet
    resume();
    await done;
    assert.equal(socket.congested, false);
  });

  test("a producer that ignores congestion gets the client closed as a slow consumer; others carry on", async () => {
    const bound = 1024 * 1024;
    server = await startServer({ maxBufferedBytes: bound, connectionStateRecovery: false });
    server.io.on("connection", (s) =>
      s.on("echo", (v: unknown, ack: (v: unknown) => void) => ack(v)),
    );
    const healthy = server.client();
    await connected(healthy);
    const { socket } = await slowSocket(server);
    const gone = waitFor<[string]>(socket, "disconnect", 10_000);
    let highest = 0;
    for (let i = 0; i < 10_000 && socket.connected; i++) {
      socket.emit("chunk", CHUNK);
      highest = Math.max(highest, socket.bufferedAmount);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal((await gone)[0], "slow consumer");
    assert.ok(
      highest <= bound + 2 * CHUNK.length,
      `buffered ${highest} B past the bound ${bound} B`,
    );
    assert.equal(server.io.engine.metrics.slowConsumerDisconnects, 1);
    assert.equal(await healthy.timeout(2000).emitWithAck("echo", "still here"), "still here");
  });
});
