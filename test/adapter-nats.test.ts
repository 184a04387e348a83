// The adapter suite over a real nats-server this file starts (and stops, to play outages).
import { runAdapterSuite } from "./cluster/adapter-suite.js";
import { missingBinary } from "./cluster/brokers.js";
import { createNatsFixture } from "./cluster/nats-fixture.js";

runAdapterSuite({
  name: "nats",
  skipAll: missingBinary("nats-server"),
  create: createNatsFixture,
});
