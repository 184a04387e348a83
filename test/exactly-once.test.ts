// Exactly-once handling of acked client emits: a resent emit (same ack id, same session)
// never runs its handler twice, across reconnections too.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { startServer, type TestServer, waitFor } from "./support/harness.js";
import { closeRawClients, type RawClient, rawClient } from "./support/raw-client.js";

let server: TestServer | undefined;
afterEach(async () => {
  closeRawClients();
  await server?.close();
  server = undefined;
});

/** Joins "/" (optionally presenting a session) and returns the CONNECT reply's sid/pid. */
async function join(raw: RawClient, auth?: object): Promise<{ sid: string; pid: string }> {
  raw.ws.send(auth === undefined ? "40" : `40${JSON.stringify(auth)}`);
  const reply = await raw.next((f) => f.startsWith("40{"));
  return JSON.parse(reply.slice(2)) as { sid: string; pid: string };
}

async function serverWithCounter(delayMs = 0): Promise<{ count: () => number }> {
  server = await startServer();
  let count = 0;
  server.io.on("connection", (socket) => {
    socket.on("inc", (by: number, ack: (total: number) => void) => {
      count += by;
      const total = count;
      if (delayMs === 0) ack(total);
      else setTimeout(() => ack(total), delayMs);
    });
  });
  return { count: () => count };
}

describe("exactly-once acked emits", () => {
  test("a duplicate on the same connection gets the recorded ack and does not run the handler", async () => {
    const { count } = await serverWithCounter();
    const raw = await rawClient(server!.port);
    await join(raw);
    raw.ws.send('427["inc",5]');
    assert.equal(await raw.next((f) => f.startsWith("437")), "437[5]");
    const mark = raw.frames.length;
    raw.ws.send('427["inc",5]');
    assert.equal(await raw.next((f) => f.startsWith("437"), mark), "437[5]");
    assert.equal(count(), 5);
  });

  test("after a reconnection with the session recovered, resent emits are answered from the ledger", async () => {
    const { count } = await serverWithCounter();
    const first = await rawClient(server!.port);
    const { sid, pid } = await join(first);
    first.ws.send('421["inc",1]');
    await first.next((f) => f.startsWith("431"));
    const gone = new Promise((r) => server!.io.sockets.sockets.get(sid)!.once("disconnect", r));
    first.ws.terminate();
    await gone;

    const second = await rawClient(server!.port);
    const restored = await join(second, { pid });
    assert.equal(restored.sid, sid);
    second.ws.send('421["inc",1]'); // the resend of an emit whose ack was lost
    assert.equal(await second.next((f) => f.startsWith("431")), "431[1]");
    second.ws.send('422["inc",1]'); // a new emit runs
    assert.equal(await second.next((f) => f.startsWith("432")), "432[2]");
    assert.equal(count(), 2);
  });

  test("an emit whose handler is still running when the connection drops is answered on the new one", async () => {
    const { count } = await serverWithCounter(150);
    const first = await rawClient(server!.port);
    const { sid, pid } = await join(first);
    const socket = server!.io.sockets.sockets.get(sid)!;
    first.ws.send('423["inc",1]');
    const gone = waitFor(socket, "disconnect");
    first.ws.terminate();
    await gone;
    const second = await rawClient(server!.port);
    await join(second, { pid });
    second.ws.send('423["inc",1]'); // resent while the first run is still pending
    assert.equal(await second.next((f) => f.startsWith("433"), 0, 2000), "433[1]");
    assert.equal(count(), 1);
  });

  test("without a recovered session a resend is a new emit (at-least-once), as documented", async () => {
    const { count } = await serverWithCounter();
    const first = await rawClient(server!.port);
    await join(first);
    first.ws.send('421["inc",1]');
    await first.next((f) => f.startsWith("431"));
    first.ws.terminate();
    const second = await rawClient(server!.port);
    await join(second);
    second.ws.send('421["inc",1]');
    assert.equal(await second.next((f) => f.startsWith("431")), "431[2]");
    assert.equal(count(), 2);
  });

  test("the window is bounded: the oldest ids are forgotten", async () => {
    server = await startServer({ connectionStateRecovery: { maxAcks: 3 } });
    let runs = 0;
    server.io.on("connection", (socket) =>
      socket.on("x", (ack: () => void) => {
        runs++;
        ack();
      }),
    );
    const raw = await rawClient(server.port);
    await join(raw);
    for (const id of [1, 2, 3, 4]) {
      raw.ws.send(`42${id}["x"]`);
      await raw.next((f) => f === `43${id}[]`);
    }
    raw.ws.send('421["x"]'); // id 1 fell out of the window: it runs again
    raw.ws.send('424["x"]'); // id 4 is remembered: it does not
    const mark = raw.frames.length;
    raw.ws.send('425["x"]');
    await raw.next((f) => f === "435[]", mark);
    assert.equal(runs, 6);
  });
});
