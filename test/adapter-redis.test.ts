// The adapter suite over a real redis-server this file starts (and stops, to play outages).
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import { missingBinary } from "./cluster/brokers.js";
import { createRedisFixture } from "./cluster/redis-fixture.js";

runAdapterSuite({
  name: "redis",
  skipAll: missingBinary("redis-server"),
  create: createRedisFixture,
});
