// Three Switchboard servers as three processes, joined through a real redis-server or
// nats-server, with clients on each: broadcasts, requests, a node killed with SIGKILL, and
// a broker restart, all without restarting the servers.
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { after, afterEach, describe, test } from "node:test";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import {
  type Broker,
  missingBinary,
  startNatsServer,
  startRedisServer,
} from "./cluster/brokers.js";
import { TIMING, waitUntil } from "./cluster/cluster-harness.js";
import type { Command } from "./cluster/node-process.js";
import { startRoundRobinBalancer } from "./cluster/round-robin-balancer.js";
import { connected, waitFor } from "./support/harness.js";

const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** A server process and a way to send it commands. */
interface NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  ask(command: DistributiveOmit<Command, "id">, ms?: number): Promise<unknown>;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

async function spawnNode(name: string, broker: string, brokerUrl: string): Promise<NodeProcess> {
  const child = fork(new URL("./cluster/node-process.ts", import.meta.url), {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, BROKER: broker, BROKER_URL: brokerUrl, NODE_NAME: name },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const [ready] = (await Promise.race([
    once(child, "message"),
    once(child, "exit").then(() => Promise.reject(new Error(`${name} exited while starting`))),
  ])) as [{ ready: number }];
  let nextId = 0;
  return {
    name,
    child,
    url: `http://127.0.0.1:${ready.ready}`,
    ask: (command, ms = 5000) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(
          () => reject(new Error(`${name}: no answer to ${command.cmd}`)),
          ms,
        );
        const onMessage = (reply: { id?: number; result?: unknown; error?: string }) => {
          if (reply.id !== id) return;
          clearTimeout(timer);
          child.off("message", onMessage);
          if (reply.error === undefined) resolve(reply.result);
          else reject(new Error(reply.error));
        };
        child.on("message", onMessage);
        child.send({ ...command, id });
      }),
  };
}

async function serverCounts(
  nodes: readonly NodeProcess[],
  count: number,
  ms = 5000,
): Promise<void> {
  await waitUntil(
    async () =>
      (await Promise.all(nodes.map((n) => n.ask({ cmd: "serverCount" })))).every(
        (c) => c === count,
      ),
    `every process counts ${count} servers`,
    ms,
  );
}

const BROKERS = [
  { name: "redis", binary: "redis-server", start: startRedisServer },
  { name: "nats", binary: "nats-server", start: startNatsServer },
] as const;

for (const { name, binary, start } of BROKERS) {
  const skip = missingBinary(binary);
  describe(`3 server processes over ${name}`, { skip: skip ?? false, timeout: 30_000 }, () => {
    let broker: Broker | undefined;
    const clients: ClientSocket[] = [];
    afterEach(() => {
      for (const client of clients.splice(0)) client.disconnect();
      for (const child of children) child.kill("SIGKILL");
    });
    after(async () => {
      await broker?.close();
    });

    test("broadcasts, requests, a killed node and a broker restart", async () => {
      broker ??= await start();
      const nodes = await Promise.all(
        ["n0", "n1", "n2"].map((n) => spawnNode(n, name, broker!.url)),
      );
      const [n0, n1, n2] = nodes as [NodeProcess, NodeProcess, NodeProcess];
      for (const node of nodes) {
        clients.push(
          ioc(node.url, { forceNew: true, reconnection: false, auth: { name: `on-${node.name}` } }),
        );
      }
      await Promise.all(clients.map((c) => connected(c)));
      await serverCounts(nodes, 3);

      const hello = clients.map((c) => waitFor(c, "hello"));
      await n0.ask({ cmd: "emit", ev: "hello", args: [1] });
      for (const got of await Promise.all(hello)) assert.equal(got[0], 1);
      assert.deepEqual(await n1.ask({ cmd: "fetchSockets" }), ["on-n0", "on-n1", "on-n2"]);
      assert.deepEqual(await n2.ask({ cmd: "whoami" }), ["n0", "n1"]);

      n2.child.kill("SIGKILL");
      let started = Date.now();
      assert.deepEqual(await n0.ask({ cmd: "fetchSockets" }), ["on-n0", "on-n1"]);
      assert.ok(
        Date.now() - started < TIMING.requestsTimeout + 1000,
        "answered within the timeout",
      );
      await serverCounts([n0, n1], 2, TIMING.heartbeatTimeout + 2000);
      started = Date.now();
      assert.deepEqual(await n0.ask({ cmd: "whoami" }), ["n1"]);
      assert.ok(Date.now() - started < 500, "no wait for the dead node");

      await broker.stop();
      await serverCounts([n0, n1], 1);
      await broker.start();
      await serverCounts([n0, n1], 2, 8000);
      const again = [waitFor(clients[0]!, "again"), waitFor(clients[1]!, "again")];
      await n1.ask({ cmd: "emit", ev: "again", args: [] });
      await Promise.all(again);
    });

    test("polling clients behind a round-robin balancer, no sticky sessions", async () => {
      broker ??= await start();
      const nodes = await Promise.all(
        ["n0", "n1", "n2"].map((n) => spawnNode(n, name, broker!.url)),
      );
      await serverCounts(nodes, 3);
      const lb = await startRoundRobinBalancer(nodes.map((node) => Number(new URL(node.url).port)));
      try {
        for (let i = 0; i < 3; i++) {
          const client = ioc(lb.url, {
            forceNew: true,
            reconnection: false,
            transports: ["polling"],
            auth: { name: `lb-${i}` },
          });
          clients.push(client);
        }
        await Promise.all(clients.map((c) => connected(c)));
        // Each client's session lives on one node, which answers all of its requests
        // whichever node the balancer picked.
        for (const client of clients) {
          const holders = new Set<unknown>();
          for (let i = 0; i < 6; i++) holders.add(await client.timeout(3000).emitWithAck("node"));
          assert.equal(holders.size, 1);
        }
        const hello = clients.map((c) => waitFor(c, "hello"));
        await nodes[1]!.ask({ cmd: "emit", ev: "hello", args: [2] });
        for (const got of await Promise.all(hello)) assert.equal(got[0], 2);
        assert.ok(
          lb.requests.every((count) => count > 3),
          `requests: ${lb.requests.join(",")}`,
        );
      } finally {
        await lb.close();
      }
    });
  });
}
