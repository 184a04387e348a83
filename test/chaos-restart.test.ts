// Chaos with a server process restart mid-run: 20 Switchboard clients behind the chaos
// proxy, 2,000 acked emits each way per client, and the server process replaced halfway
// through. Sessions and missed packets live in Redis (Streams adapter), so every client is
// recovered on the new process: nothing lost, nothing run twice, order kept.
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { io, type Socket } from "../src/client/index.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { type ChaosProxy, startChaosProxy } from "./support/chaos-proxy.js";
import { waitFor } from "./support/harness.js";
import { Tally } from "./support/tally.js";

const CLIENTS = 20;
const MESSAGES = 2000;
const skip = missingBinary("redis-server");

describe("chaos with a server restart", { skip }, () => {
  let redis: Broker;
  let proxy: ChaosProxy | undefined;
  let server: ChildProcess | undefined;
  const clients: Socket[] = [];

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    for (const c of clients) c.disconnect();
    server?.kill("SIGKILL");
    await proxy?.close();
    await redis?.close();
  });

  test(`${CLIENTS} clients x ${MESSAGES} acked emits each way, server process restarted halfway`, async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const handled = Array.from({ length: CLIENTS }, () => new Tally());
    const startServer = async (): Promise<ChildProcess> => {
      const child = fork(new URL("./support/chaos-server.ts", import.meta.url), {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, PORT: String(port), REDIS_URL: redis.url },
      });
      child.on("message", (m: { type: string; runs?: [number, number][] }) => {
        if (m.type === "handled") for (const [key, seq] of m.runs!) handled[key]!.add(seq);
      });
      await waitFor(child as never, "message", 10_000); // "ready"
      return child;
    };
    server = await startServer();
    proxy = await startChaosProxy({ targetPort: port, seed: 23, minLifeMs: 300, maxLifeMs: 1200 });

    const received = Array.from({ length: CLIENTS }, () => new Tally());
    const acked = new Array<number>(CLIENTS).fill(0);
    let reconnects = 0;
    let notRecovered = 0;
    for (let i = 0; i < CLIENTS; i++) {
      const client = io(`http://127.0.0.1:${proxy.port}`, {
        forceNew: true,
        transports: ["websocket"],
        auth: { key: String(i) },
        reconnectionDelay: 50,
        reconnectionDelayMax: 200,
        maxBufferedPackets: MESSAGES,
      });
      client.on("m", (seq: number) => received[i]!.add(seq));
      let first = true;
      client.on("connect", () => {
        if (first) first = false;
        else {
          reconnects++;
          if (!client.recovered) notRecovered++;
        }
      });
      clients.push(client);
    }
    await Promise.all(clients.map((c) => waitFor(c as never, "connect", 10_000)));

    // Everything must be sent, delivered and acked by then: a lost ack fails the test
    // with its counts instead of stalling a sender for ever.
    const deadline = Date.now() + 45_000;
    const inFlight = new Array<number>(CLIENTS).fill(0);
    const sendAll = async (i: number): Promise<void> => {
      for (let seq = 0; seq < MESSAGES; seq++) {
        while (inFlight[i]! >= 50) {
          if (Date.now() > deadline) return;
          await new Promise((r) => setTimeout(r, 2));
        }
        inFlight[i]!++;
        clients[i]!.emit("m", seq, () => {
          inFlight[i]!--;
          acked[i]!++;
        });
      }
    };
    let restarted = false;
    const pump = async (): Promise<void> => {
      for (let seq = 0; seq < MESSAGES; seq += 20) {
        if (!restarted && process.env.CHAOS_NO_RESTART === undefined && seq >= MESSAGES / 2) {
          restarted = true;
          const old = server!;
          const stopped = waitFor(old as never, "exit", 10_000);
          old.send({ type: "stop" });
          await stopped;
          server = await startServer();
        }
        const batch: [number, number][] = [];
        for (let i = 0; i < CLIENTS; i++) for (let k = seq; k < seq + 20; k++) batch.push([i, k]);
        server!.send({ type: "emit", batch });
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    await Promise.all([pump(), ...clients.map((_, i) => sendAll(i))]);
    proxy.calm();
    const done = () =>
      acked.every((n) => n === MESSAGES) &&
      received.every((t) => t.received === MESSAGES) &&
      handled.every((t) => t.received === MESSAGES);
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

    const sum = (
      list: { received: number; duplicates: number; outOfOrder: number }[],
      k: "received" | "duplicates" | "outOfOrder",
    ) => list.reduce((n, t) => n + t[k], 0);
    const sent = CLIENTS * MESSAGES;
    console.log(
      `chaos with restart: client->server sent ${sent}, handled ${sum(handled, "received")}, duplicates ${sum(handled, "duplicates")}, ` +
        `out of order ${sum(handled, "outOfOrder")}, acked ${acked.reduce((a, b) => a + b, 0)}; server->client sent ${sent}, ` +
        `delivered ${sum(received, "received")}, duplicates ${sum(received, "duplicates")}, out of order ${sum(received, "outOfOrder")}; ` +
        `proxy cuts ${proxy.cuts}, reconnects ${reconnects}, not recovered ${notRecovered}`,
    );
    assert.ok(restarted);
    assert.equal(sum(handled, "duplicates"), 0, "duplicates at the server handlers");
    assert.equal(sum(handled, "outOfOrder"), 0, "client->server order");
    assert.equal(sum(handled, "received"), sent, "client->server lost");
    assert.equal(sum(received, "duplicates"), 0, "duplicates at the clients");
    assert.equal(sum(received, "outOfOrder"), 0, "server->client order");
    assert.equal(sum(received, "received"), sent, "server->client lost");
    assert.equal(notRecovered, 0);
  });
});
