// Chaos: clients behind a proxy that splits, delays, stalls and cuts connections at random.
// Counts what was sent and what the handlers saw: nothing lost, nothing duplicated, order kept.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { type Socket as SbSocket, io as sbio } from "../src/client/index.js";
import { type ChaosProxy, startChaosProxy } from "./support/chaos-proxy.js";
import { pace, Reconnects, sendWindowed, until } from "./support/chaos-run.js";
import { connected, startServer, type TestServer, waitFor } from "./support/harness.js";
import { assertExactlyOnce, describeTotals, tallies, totals } from "./support/tally.js";

const CLIENTS = 20;
const MESSAGES = 2000;
const SENT = CLIENTS * MESSAGES;

let server: TestServer | undefined;
let proxy: ChaosProxy | undefined;
const clients: { disconnect(): unknown }[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await proxy?.close();
  await server?.close();
  server = undefined;
  proxy = undefined;
});

/** A server with recovery (room `user:<key>` per client), and the chaos proxy in front of it. */
async function setUp(seed: number): Promise<{ server: TestServer; proxy: ChaosProxy }> {
  server = await startServer({
    connectionStateRecovery: { maxPackets: SENT, maxDisconnectionDuration: 60_000 },
    pingInterval: 1000,
    pingTimeout: 1000,
  });
  proxy = await startChaosProxy({ targetPort: server.port, seed, minLifeMs: 200, maxLifeMs: 900 });
  return { server, proxy };
}

/** The numbered server-to-client stream, 20 per client every 30 ms: it spans many cuts. */
function pump(io: TestServer["io"]): Promise<void> {
  return pace(MESSAGES, (from, to) => {
    for (let i = 0; i < CLIENTS; i++) {
      for (let seq = from; seq < to; seq++) io.to(`user:${i}`).emit("m", seq);
    }
  });
}

/** Options shared by both clients: WebSocket only, fast reconnection, key in auth. */
function clientOptions(i: number) {
  return {
    forceNew: true,
    transports: ["websocket"],
    auth: { key: String(i) },
    reconnectionDelay: 20,
    reconnectionDelayMax: 100,
    randomizationFactor: 0,
  };
}

describe("chaos", () => {
  test(`server to client: ${CLIENTS} official clients x ${MESSAGES} messages through random cuts, recovered`, async () => {
    const run = await setUp(7);
    run.server.io.on("connection", (socket) => {
      if (!socket.recovered) socket.join(`user:${socket.handshake.auth.key as string}`);
    });
    const received = tallies(CLIENTS);
    const reconnects = new Reconnects();
    const official: ClientSocket[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const client = ioc(`http://127.0.0.1:${run.proxy.port}`, clientOptions(i));
      client.on("m", (seq: number) => received[i]!.add(seq));
      reconnects.watch(client);
      official.push(client);
      clients.push(client);
    }
    await Promise.all(official.map((c) => connected(c, 5000)));

    await pump(run.server.io);
    run.proxy.calm();
    await until(() => totals(received).received === SENT, Date.now() + 20_000);
    console.log(
      `chaos (socket.io-client): ${describeTotals("server->client", SENT, received)}, ` +
        `proxy cuts ${run.proxy.cuts}, ${reconnects}`,
    );
    assert.ok(run.proxy.cuts >= 5, `expected several cuts, got ${run.proxy.cuts}`);
    assert.equal(reconnects.notRecovered, 0);
    assertExactlyOnce("server->client", SENT, received);
  });

  test(`both ways: ${CLIENTS} Switchboard clients x ${MESSAGES} acked emits each way through random cuts`, async () => {
    const run = await setUp(11);
    const handled = tallies(CLIENTS);
    run.server.io.on("connection", (socket) => {
      const key = Number(socket.handshake.auth.key);
      if (!socket.recovered) socket.join(`user:${key}`);
      socket.on("m", (seq: number, ack: (n: number) => void) => {
        handled[key]!.add(seq);
        ack(seq);
      });
    });
    const received = tallies(CLIENTS);
    const acked = tallies(CLIENTS);
    const reconnects = new Reconnects();
    const ours: SbSocket[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const client = sbio(`http://127.0.0.1:${run.proxy.port}`, {
        ...clientOptions(i),
        maxBufferedPackets: MESSAGES,
      });
      client.on("m", (seq: number) => received[i]!.add(seq));
      reconnects.watch(client);
      ours.push(client);
      clients.push(client);
    }
    await Promise.all(ours.map((c) => waitFor(c as never, "connect", 5000)));

    // Both directions at once: each client keeps up to 50 acked emits in flight while the
    // server sends its numbered stream.
    const deadline = Date.now() + 30_000;
    const send = (i: number) =>
      sendWindowed(MESSAGES, 50, deadline, (seq, onAck) =>
        ours[i]!.emit("m", seq, (n: number) => {
          onAck();
          acked[i]!.add(n);
        }),
      );
    await Promise.all([pump(run.server.io), ...ours.map((_, i) => send(i))]);
    run.proxy.calm();
    await until(() => [acked, received].every((list) => totals(list).received === SENT), deadline);
    console.log(
      `chaos (switchboard client, both ways): ${describeTotals("client->server", SENT, handled)}, ` +
        `acked ${totals(acked).received}; ${describeTotals("server->client", SENT, received)}; ` +
        `proxy cuts ${run.proxy.cuts}, ${reconnects}`,
    );
    assert.ok(run.proxy.cuts >= 5, `expected several cuts, got ${run.proxy.cuts}`);
    assertExactlyOnce("client->server", SENT, handled);
    assertExactlyOnce("acks", SENT, acked);
    assertExactlyOnce("server->client", SENT, received);
    assert.equal(reconnects.notRecovered, 0);
  });
});
