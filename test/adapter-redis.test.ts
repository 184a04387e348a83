// The adapter suite over a real redis-server this file starts (and stops, to play outages),
// and what a Redis node does with malformed messages on its channels.
import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import { AdapterError } from "../src/errors.js";
import { createRedisAdapter } from "../src/redis/index.js";
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { TIMING, waitUntil } from "./cluster/cluster-harness.js";
import { createRedisFixture, redisClient, type TestRedisClient } from "./cluster/redis-fixture.js";
import {
  closeClients,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";

const skip = missingBinary("redis-server");

runAdapterSuite({ name: "redis", skipAll: skip, create: createRedisFixture });

describe("redis adapter and malformed messages", { skip: skip ?? false }, () => {
  let broker: Broker | undefined;
  let server: TestServer | undefined;
  const redis: TestRedisClient[] = [];
  afterEach(async () => {
    closeClients();
    await server?.close();
    await Promise.all(redis.splice(0).map((c) => c.close()));
  });
  after(async () => {
    await broker?.close();
  });

  test("are reported to onError and change nothing", async () => {
    broker = await startRedisServer();
    redis.push(...(await Promise.all([0, 1, 2].map(() => redisClient(broker!.url)))));
    const [pub, sub, raw] = redis as [TestRedisClient, TestRedisClient, TestRedisClient];
    const errors: AdapterError[] = [];
    const adapter = createRedisAdapter(pub, sub, { ...TIMING, onError: (e) => errors.push(e) });
    server = await startServer({ adapter });
    const client = server.client();
    await connected(client);
    await raw.publish("socket.io-request#/#", Buffer.from([0xc1]));
    await raw.publish("socket.io-request#/#", "{not json");
    await raw.publish("socket.io-request#/#", JSON.stringify({ uid: "x", type: 42 }));
    await raw.publish("socket.io#/#", Buffer.from([0x93, 0xa1, 0x78, 0x01, 0x02]));
    await waitUntil(() => errors.length === 4, "four malformed messages reported");
    assert.ok(errors.every((e) => e instanceof AdapterError && /malformed/.test(e.message)));
    const got = waitFor(client, "still");
    server.io.emit("still", "working");
    assert.equal((await got)[0], "working");
  });
});
