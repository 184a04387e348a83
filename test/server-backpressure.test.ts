/**
 * A Socket.IO client that stops reading is disconnected with "slow consumer" (issue 6), logged
 * and counted, while the other clients of the same broadcasts carry on.
 */
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { Socket } from "../src/server/index.js";
import { closeClients, startServer, type TestServer, waitFor } from "./support/harness.js";
import { closeRawClients, rawClient } from "./support/raw-client.js";

const PAYLOAD = "y".repeat(32 * 1024);

describe("slow consumers", () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    closeClients();
    closeRawClients();
    await server?.close();
    server = undefined;
  });

  test("a client that stops reading is disconnected with 'slow consumer'; others still get the broadcasts", async () => {
    const lines: string[] = [];
    server = await startServer({
      transports: ["websocket"],
      maxBufferedBytes: 256 * 1024,
      logger: (line) => lines.push(line),
    });
    const sockets: Socket[] = [];
    server.io.on("connection", (socket) => {
      socket.join("room");
      sockets.push(socket);
    });
    const slow = await rawClient(server.port);
    slow.ws.send("40");
    await slow.next((f) => f.startsWith("40{"));
    const fast = server.client("/", { transports: ["websocket"] });
    await waitFor(fast, "connect");
    const slowSocket = sockets[0]!;
    const disconnected = waitFor<[string]>(slowSocket, "disconnect", 10_000);
    slow.ws.pause();

    let received = 0;
    fast.on("news", () => received++);
    let sent = 0;
    while (slowSocket.connected && sent < 8000) {
      server.io.to("room").emit("news", PAYLOAD);
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const [reason] = await disconnected;
    assert.equal(reason, "slow consumer");
    assert.equal(server.io.engine.metrics.slowConsumerDisconnects, 1);
    assert.ok(
      lines.some((line) => line.includes("slow consumer")),
      lines.join("\n"),
    );
    const done = waitFor(fast, "done", 5000);
    server.io.to("room").emit("done");
    await done;
    assert.equal(received, sent, "the reading client got every broadcast, in order");
    assert.equal(fast.connected, true);
  });
});
