// Chaos: clients behind a proxy that splits, delays, stalls and cuts connections at random.
// Counts what was sent and what the handlers saw: nothing lost, nothing duplicated, order kept.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import { type Socket as SbSocket, io as sbio } from "../src/client/index.js";
import { type ChaosProxy, startChaosProxy } from "./support/chaos-proxy.js";
import { connected, startServer, type TestServer, waitFor } from "./support/harness.js";
import { Tally } from "./support/tally.js";

const CLIENTS = 20;
const MESSAGES = 2000;

let server: TestServer | undefined;
let proxy: ChaosProxy | undefined;
const clients: ClientSocket[] = [];
const ours: SbSocket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const c of ours.splice(0)) c.disconnect();
  await proxy?.close();
  await server?.close();
  server = undefined;
  proxy = undefined;
});

describe("chaos", () => {
  test(`server to client: ${CLIENTS} official clients x ${MESSAGES} messages through random cuts, recovered`, async () => {
    server = await startServer({
      connectionStateRecovery: { maxPackets: CLIENTS * MESSAGES, maxDisconnectionDuration: 60_000 },
      pingInterval: 1000,
      pingTimeout: 1000,
    });
    server.io.on("connection", (socket) => {
      if (!socket.recovered) socket.join(`user:${socket.handshake.auth.key as string}`);
    });
    proxy = await startChaosProxy({
      targetPort: server.port,
      seed: 7,
      minLifeMs: 200,
      maxLifeMs: 900,
    });
    const tallies: Tally[] = [];
    let reconnects = 0;
    let notRecovered = 0;
    for (let i = 0; i < CLIENTS; i++) {
      const tally = new Tally();
      tallies.push(tally);
      const client = ioc(`http://127.0.0.1:${proxy.port}`, {
        forceNew: true,
        transports: ["websocket"],
        auth: { key: String(i) },
        reconnectionDelay: 20,
        reconnectionDelayMax: 100,
        randomizationFactor: 0,
      });
      client.on("m", (seq: number) => tally.add(seq));
      let first = true;
      client.on("connect", () => {
        if (first) {
          first = false;
          return;
        }
        reconnects++;
        if (!client.recovered) notRecovered++;
      });
      clients.push(client);
    }
    await Promise.all(clients.map((c) => connected(c, 5000)));

    // Paced sends: 20 per client per tick, so the run spans many cuts.
    for (let seq = 0; seq < MESSAGES; seq += 20) {
      for (let i = 0; i < CLIENTS; i++) {
        for (let k = seq; k < seq + 20; k++) server.io.to(`user:${i}`).emit("m", k);
      }
      await new Promise((r) => setTimeout(r, 30));
    }
    proxy.calm();
    const deadline = Date.now() + 20_000;
    while (tallies.some((t) => t.received < MESSAGES) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const sent = CLIENTS * MESSAGES;
    const delivered = tallies.reduce((n, t) => n + t.received, 0);
    const duplicates = tallies.reduce((n, t) => n + t.duplicates, 0);
    const outOfOrder = tallies.reduce((n, t) => n + t.outOfOrder, 0);
    console.log(
      `chaos (socket.io-client, server->client): sent ${sent}, delivered ${delivered}, duplicates ${duplicates}, ` +
        `out of order ${outOfOrder}, proxy cuts ${proxy.cuts}, reconnects ${reconnects}, not recovered ${notRecovered}`,
    );
    assert.ok(proxy.cuts >= 5, `expected several cuts, got ${proxy.cuts}`);
    assert.equal(notRecovered, 0);
    assert.equal(duplicates, 0);
    assert.equal(outOfOrder, 0);
    assert.equal(delivered, sent);
  });

  test(`both ways: ${CLIENTS} Switchboard clients x ${MESSAGES} acked emits each way through random cuts`, async () => {
    server = await startServer({
      connectionStateRecovery: { maxPackets: CLIENTS * MESSAGES, maxDisconnectionDuration: 60_000 },
      pingInterval: 1000,
      pingTimeout: 1000,
    });
    const handled: Tally[] = [];
    server.io.on("connection", (socket) => {
      const key = Number(socket.handshake.auth.key);
      if (!socket.recovered) socket.join(`user:${key}`);
      socket.on("m", (seq: number, ack: (n: number) => void) => {
        handled[key]!.add(seq);
        ack(seq);
      });
    });
    proxy = await startChaosProxy({
      targetPort: server.port,
      seed: 11,
      minLifeMs: 200,
      maxLifeMs: 900,
    });
    const received: Tally[] = [];
    const acked: number[] = [];
    let reconnects = 0;
    let notRecovered = 0;
    for (let i = 0; i < CLIENTS; i++) {
      handled.push(new Tally());
      received.push(new Tally());
      acked.push(0);
      const client = sbio(`http://127.0.0.1:${proxy.port}`, {
        forceNew: true,
        transports: ["websocket"],
        auth: { key: String(i) },
        reconnectionDelay: 20,
        reconnectionDelayMax: 100,
        randomizationFactor: 0,
        maxBufferedPackets: MESSAGES,
      });
      client.on("m", (seq: number) => received[i]!.add(seq));
      let first = true;
      client.on("connect", () => {
        if (first) {
          first = false;
          return;
        }
        reconnects++;
        if (!client.recovered) notRecovered++;
      });
      ours.push(client);
    }
    await Promise.all(ours.map((c) => waitFor(c as never, "connect", 5000)));

    // Both directions at once: each client keeps up to 50 acked emits in flight while the
    // server sends its numbered stream, paced so the run spans many cuts.
    const inFlight = new Array<number>(CLIENTS).fill(0);
    const sendAll = async (i: number): Promise<void> => {
      for (let seq = 0; seq < MESSAGES; seq++) {
        while (inFlight[i]! >= 50) await new Promise((r) => setTimeout(r, 2));
        inFlight[i]!++;
        ours[i]!.emit("m", seq, () => {
          inFlight[i]!--;
          acked[i]!++;
        });
      }
    };
    const pump = async (): Promise<void> => {
      for (let seq = 0; seq < MESSAGES; seq += 20) {
        for (let i = 0; i < CLIENTS; i++) {
          for (let k = seq; k < seq + 20; k++) server!.io.to(`user:${i}`).emit("m", k);
        }
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    await Promise.all([pump(), ...ours.map((_, i) => sendAll(i))]);
    proxy.calm();
    const deadline = Date.now() + 30_000;
    const done = () =>
      acked.every((n) => n === MESSAGES) && received.every((t) => t.received === MESSAGES);
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

    const sum = (f: (i: number) => number) =>
      Array.from({ length: CLIENTS }, (_, i) => f(i)).reduce((a, b) => a + b, 0);
    const sent = CLIENTS * MESSAGES;
    console.log(
      `chaos (switchboard client, both ways): client->server sent ${sent}, handled ${sum((i) => handled[i]!.received)}, ` +
        `duplicates ${sum((i) => handled[i]!.duplicates)}, out of order ${sum((i) => handled[i]!.outOfOrder)}, acked ${sum((i) => acked[i]!)}; ` +
        `server->client sent ${sent}, delivered ${sum((i) => received[i]!.received)}, duplicates ${sum((i) => received[i]!.duplicates)}, ` +
        `out of order ${sum((i) => received[i]!.outOfOrder)}; proxy cuts ${proxy.cuts}, reconnects ${reconnects}, not recovered ${notRecovered}`,
    );
    assert.ok(proxy.cuts >= 5, `expected several cuts, got ${proxy.cuts}`);
    assert.equal(
      sum((i) => handled[i]!.duplicates),
      0,
      "duplicates at the server handlers",
    );
    assert.equal(
      sum((i) => handled[i]!.outOfOrder),
      0,
      "client->server order",
    );
    assert.equal(
      sum((i) => handled[i]!.received),
      sent,
      "client->server lost",
    );
    assert.equal(
      sum((i) => acked[i]!),
      sent,
      "acks",
    );
    assert.equal(
      sum((i) => received[i]!.duplicates),
      0,
      "duplicates at the clients",
    );
    assert.equal(
      sum((i) => received[i]!.outOfOrder),
      0,
      "server->client order",
    );
    assert.equal(
      sum((i) => received[i]!.received),
      sent,
      "server->client lost",
    );
    assert.equal(notRecovered, 0);
  });
});
