// Chaos with a crash: 20 clients behind the chaos proxy on a server process that is
// SIGKILLed halfway through a numbered stream, and replaced. The stream is emitted by another
// node of the cluster (this process), so every message is in Redis whatever the crash takes
// with it. The crashed process saved no session on the way out; the live session snapshots
// it kept in Redis (Redis Streams adapter) are what its clients recover from on the new
// process: every reconnection recovered, nothing lost or duplicated server to client.
// Client to server, the ack ledger died with the process: Switchboard clients resend their
// unacked emits, so those in flight at the crash may run twice (at least once), never lost.
//
// CHAOS_SNAPSHOTS=off turns the snapshots off: the test must then fail (not recovered, lost).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { io as ioc } from "socket.io-client";
import { io, type Socket } from "../src/client/index.js";
import { createRedisStreamsAdapter } from "../src/redis/index.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { redisClient, type TestRedisClient } from "./cluster/redis-fixture.js";
import { type ChaosNode, reservePort, startChaosNode } from "./support/chaos-node.js";
import { type ChaosProxy, startChaosProxy } from "./support/chaos-proxy.js";
import { pace, Reconnects, sendWindowed, until } from "./support/chaos-run.js";
import { startServer, type TestServer, waitFor } from "./support/harness.js";
import { assertExactlyOnce, describeTotals, tallies, totals } from "./support/tally.js";

const OURS = 10; // keys 0..9: Switchboard clients, acked emits both ways
const OFFICIAL = 10; // keys 10..19: socket.io-client, server to client
const CLIENTS = OURS + OFFICIAL;
const MESSAGES = 1000;
const WINDOW = 50; // acked emits in flight per Switchboard client
const skip = missingBinary("redis-server");

describe("chaos with a crashed server process", { skip }, () => {
  let redis: Broker;
  let redisForEmitter: TestRedisClient | undefined;
  let emitter: TestServer | undefined;
  let proxy: ChaosProxy | undefined;
  let node: ChaosNode | undefined;
  const clients: { disconnect(): unknown }[] = [];

  before(async () => {
    redis = await startRedisServer();
  });
  after(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await node?.kill();
    await proxy?.close();
    await emitter?.close();
    await redisForEmitter?.close();
    await redis?.close();
  });

  test(`${CLIENTS} clients, ${MESSAGES} messages each way, server process SIGKILLed halfway: all recovered`, async () => {
    const port = await reservePort();
    const handled = tallies(OURS);
    const start = () => startChaosNode({ port, redisUrl: redis.url, handled });
    node = await start();
    redisForEmitter = await redisClient(redis.url);
    emitter = await startServer({
      adapter: createRedisStreamsAdapter(redisForEmitter),
      connectionStateRecovery: { maxPackets: 100_000, maxDisconnectionDuration: 60_000 },
    });
    proxy = await startChaosProxy({ targetPort: port, seed: 31, minLifeMs: 300, maxLifeMs: 1200 });

    const url = `http://127.0.0.1:${proxy.port}`;
    const options = (key: number) => ({
      forceNew: true,
      transports: ["websocket"],
      auth: { key: String(key) },
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
    });
    const received = tallies(CLIENTS);
    const acked = tallies(OURS);
    const reconnects = new Reconnects();
    const ours: Socket[] = [];
    for (let key = 0; key < CLIENTS; key++) {
      if (key < OURS) {
        const client = io(url, { ...options(key), maxBufferedPackets: MESSAGES });
        client.on("m", (seq: number) => received[key]!.add(seq));
        reconnects.watch(client);
        ours.push(client);
        clients.push(client);
      } else {
        const client = ioc(url, options(key));
        client.on("m", (seq: number) => received[key]!.add(seq));
        reconnects.watch(client);
        clients.push(client);
      }
    }
    await Promise.all(clients.map((c) => waitFor(c as never, "connect", 10_000)));

    // The stream keeps coming while the process is dead and while the new one starts.
    let restarted: Promise<unknown> | undefined;
    const pump = () =>
      pace(
        MESSAGES,
        async (from, to) => {
          if (restarted === undefined && from >= MESSAGES / 2) {
            await node!.kill();
            restarted = start().then((next) => {
              node = next;
            });
          }
          for (let key = 0; key < CLIENTS; key++) {
            for (let seq = from; seq < to; seq++) emitter!.io.to(`user:${key}`).emit("m", seq);
          }
        },
        20,
        100,
      );
    const deadline = Date.now() + 40_000;
    const send = (key: number) =>
      sendWindowed(MESSAGES, WINDOW, deadline, (seq, onAck) =>
        ours[key]!.emit("m", seq, (n: number) => {
          onAck();
          acked[key]!.add(n);
        }),
      );
    await Promise.all([pump(), ...ours.map((_, key) => send(key))]);
    await restarted;
    const midRun = reconnects.count;
    proxy.calm();
    const isDone = () =>
      totals(received).received === CLIENTS * MESSAGES &&
      totals(acked).received === OURS * MESSAGES;
    await until(isDone, deadline, 50);

    const sent = OURS * MESSAGES;
    console.log(
      `chaos with a crash: ${describeTotals("client->server", sent, handled)} (at least once), ` +
        `acked ${totals(acked).received}; ${describeTotals("server->client", CLIENTS * MESSAGES, received)}; ` +
        `proxy cuts ${proxy.cuts}, ${reconnects} (${midRun} while the stream ran)`,
    );
    assert.ok(restarted !== undefined, "the process was killed");
    assertExactlyOnce("server->client", CLIENTS * MESSAGES, received);
    assert.ok(reconnects.count >= CLIENTS, "every client reconnected at least once (crash)");
    assert.equal(reconnects.notRecovered, 0, "not recovered");
    // Client to server: every emit ran and was acked; only those in flight at the crash (at
    // most WINDOW per client) may have run twice.
    const runs = totals(handled);
    assertExactlyOnce("acks", sent, acked);
    assert.equal(runs.received, sent, "client->server lost");
    assert.equal(runs.outOfOrder, 0, "client->server order");
    assert.ok(runs.duplicates <= OURS * WINDOW, `${runs.duplicates} duplicate runs`);
  });
});
