// Redis Streams mode under rapid reconnections: what the chaos test with a server restart
// found, each pinned down over raw Socket.IO connections (so the auth a client presents,
// its pid and offset, is exactly the test's).
import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import type { Adapter } from "../src/adapter/adapter.js";
import type { AdapterError } from "../src/errors.js";
import { createRedisStreamsAdapter } from "../src/redis/index.js";
import { compareStreamIds } from "../src/redis/stream-codec.js";
import type { RedisStreamsClient } from "../src/redis/stream-reader.js";
import type { Socket } from "../src/server/index.js";
import { type Broker, missingBinary, startRedisServer } from "./cluster/brokers.js";
import { waitUntil } from "./cluster/cluster-harness.js";
import { redisClient, type TestRedisClient } from "./cluster/redis-fixture.js";
import { startServer, type TestServer, waitFor } from "./support/harness.js";
import { closeRawClients, type RawClient, rawClient } from "./support/raw-client.js";

const skip = missingBinary("redis-server");

/** A raw connection joined to the main namespace. */
interface Joined {
  readonly raw: RawClient;
  readonly sid: string;
  readonly pid: string;
}

/** The `m` events a raw connection received: `[n, offset]` each. */
function received(raw: RawClient): [number, string][] {
  const events: [number, string][] = [];
  for (const frame of raw.frames) {
    if (typeof frame !== "string" || !frame.startsWith('42["m"')) continue;
    const [, n, offset] = JSON.parse(frame.slice(2)) as [string, number, string];
    events.push([n, offset]);
  }
  return events;
}

const numbers = (raw: RawClient): number[] => received(raw).map(([n]) => n);

/** Opens a raw connection and joins `/`, presenting `auth` (a pid and offset, to recover). */
async function join(port: number, auth?: { pid: string; offset?: string }): Promise<Joined> {
  const raw = await rawClient(port);
  raw.ws.send(`40${auth === undefined ? "" : JSON.stringify(auth)}`);
  const frame = await raw.next((f) => f.startsWith("40{"));
  const { sid, pid } = JSON.parse(frame.slice(2)) as { sid: string; pid: string };
  return { raw, sid, pid };
}

/**
 * `client`, where `onReply(command)` runs (and is awaited) after each reply to a command,
 * and whose duplicates pass through `duplicated`.
 */
function intercepted(
  client: RedisStreamsClient,
  onReply: (command: unknown) => Promise<void>,
  duplicated: (client: RedisStreamsClient) => RedisStreamsClient = (c) => c,
): RedisStreamsClient {
  return new Proxy(client, {
    get(target, key) {
      if (key === "duplicate") return () => duplicated(target.duplicate());
      if (key === "sendCommand") {
        return async (args: readonly (string | Buffer)[], options?: object) => {
          const reply = await target.sendCommand(args, options);
          await onReply(args[0]);
          return reply;
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("redis streams: recovery under rapid reconnections", {
  skip: skip ?? false,
  timeout: 20_000,
}, () => {
  let broker: Broker;
  let raw: TestRedisClient;
  const servers: TestServer[] = [];
  const clients: TestRedisClient[] = [];

  before(async () => {
    broker = await startRedisServer();
    raw = await redisClient(broker.url);
  });
  after(async () => {
    await raw.close();
    await broker.close();
  });
  afterEach(async () => {
    closeRawClients();
    await Promise.allSettled(servers.splice(0).map((server) => server.close()));
    await Promise.allSettled(clients.splice(0).map((client) => client.close()));
    await raw.flushAll();
  });

  /**
   * A node whose sockets join "room" unless recovered; `wrap` may stand between the adapter
   * and its Redis client (to count commands).
   */
  async function startNode(
    opts: {
      wrap?: (client: RedisStreamsClient) => RedisStreamsClient;
      errors?: AdapterError[];
      port?: number;
    } = {},
  ): Promise<TestServer> {
    const client = await redisClient(broker.url);
    clients.push(client);
    const source = client as unknown as RedisStreamsClient;
    const onError = (error: AdapterError): void => void opts.errors?.push(error);
    const server = await startServer(
      {
        adapter: createRedisStreamsAdapter(opts.wrap?.(source) ?? source, { onError }),
        connectionStateRecovery: { maxDisconnectionDuration: 60_000 },
      },
      opts.port ?? 0,
    );
    servers.push(server);
    server.io.on("connection", (socket) => {
      if (!socket.recovered) socket.join("room");
    });
    await waitUntil(() => server.io.sockets.adapter.lastOffset() !== undefined, "reader started");
    return server;
  }

  /** The server-side socket of the next connection. */
  function nextSocket(server: TestServer): Promise<Socket> {
    return new Promise((resolve) => server.io.once("connection", resolve));
  }

  /** Closes a raw connection and waits until its server-side socket is gone. */
  async function drop(joined: Joined, socket: Socket): Promise<void> {
    const gone = waitFor(socket, "disconnect");
    joined.raw.ws.terminate();
    await gone;
  }

  /**
   * Holds the adapter's restores (after they read the session) until `release()`: a
   * restore that takes long, as under load.
   */
  function holdRestores(adapter: Adapter): { release(): void; held: () => number } {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = 0;
    const restore = adapter.restoreSession.bind(adapter);
    adapter.restoreSession = async (pid, offset) => {
      const session = await restore(pid, offset);
      held++;
      await gate;
      return session;
    };
    return { release, held: () => held };
  }

  test("a recovered client that got none of its missed packets finds them all again", async () => {
    const node = await startNode();
    const first = nextSocket(node);
    const a = await join(node.port); // no packet yet: the session starts at its start offset
    await drop(a, await first);
    node.io.to("room").emit("m", 1);
    node.io.to("room").emit("m", 2);

    const second = nextSocket(node);
    const b = await join(node.port, { pid: a.pid });
    assert.equal(b.sid, a.sid);
    await waitUntil(() => received(b.raw).length === 2, "the missed packets");
    // The connection dies before the client read them: it still has no offset.
    await drop(b, await second);
    node.io.to("room").emit("m", 3);

    const c = await join(node.port, { pid: a.pid });
    assert.equal(c.sid, a.sid);
    await waitUntil(() => received(c.raw).length === 3, "the missed packets, again");
    assert.deepEqual(numbers(c.raw), [1, 2, 3]);
  });

  test("a session restored for a connection that closed meanwhile is kept for the next one", async () => {
    const node = await startNode();
    const first = nextSocket(node);
    const a = await join(node.port);
    node.io.to("room").emit("m", 1);
    await waitUntil(() => received(a.raw).length === 1, "the first packet");
    const offset = received(a.raw)[0]![1];
    await drop(a, await first);
    node.io.to("room").emit("m", 2);

    const hold = holdRestores(node.io.sockets.adapter);
    const b = await rawClient(node.port);
    b.ws.send(`40${JSON.stringify({ pid: a.pid, offset })}`);
    await waitUntil(() => hold.held() === 1, "the restore read the session");
    const closed = waitFor(b.ws, "close");
    b.ws.terminate();
    await closed;
    hold.release();

    const c = await join(node.port, { pid: a.pid, offset });
    assert.equal(c.sid, a.sid);
    await waitUntil(() => received(c.raw).length === 1, "the missed packet");
    assert.deepEqual(numbers(c.raw), [2]);
  });

  test("a client back while its previous connection's restore runs waits for it, and recovers", async () => {
    const node = await startNode();
    const first = nextSocket(node);
    const a = await join(node.port);
    node.io.to("room").emit("m", 1);
    await waitUntil(() => received(a.raw).length === 1, "the first packet");
    const offset = received(a.raw)[0]![1];
    await drop(a, await first);
    node.io.to("room").emit("m", 2);

    const hold = holdRestores(node.io.sockets.adapter);
    const b = await rawClient(node.port);
    b.ws.send(`40${JSON.stringify({ pid: a.pid, offset })}`);
    await waitUntil(() => hold.held() === 1, "the first restore read the session");
    b.ws.terminate(); // cut while its restore runs; the client is back at once
    const c = await rawClient(node.port);
    c.ws.send(`40${JSON.stringify({ pid: a.pid, offset })}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // c's CONNECT is in
    hold.release();

    const frame = await c.next((f) => f.startsWith("40{"));
    assert.equal((JSON.parse(frame.slice(2)) as { pid: string }).pid, a.pid);
    await waitUntil(() => received(c).length === 1, "the missed packet");
    assert.deepEqual(numbers(c), [2]);
  });

  test("a restore under way when the server closes puts its session back first", async () => {
    // GETDEL replies wait while `isHolding`: a restore stuck on a busy Redis connection.
    let isHolding = false;
    let held = 0;
    const waiting: (() => void)[] = [];
    const holding = (client: RedisStreamsClient): RedisStreamsClient =>
      intercepted(client, async (command) => {
        if (command !== "GETDEL" || !isHolding) return;
        held++;
        await new Promise<void>((resolve) => waiting.push(resolve));
      });
    const node = await startNode({ wrap: holding });
    const first = nextSocket(node);
    const a = await join(node.port);
    node.io.to("room").emit("m", 1);
    await waitUntil(() => received(a.raw).length === 1, "the first packet");
    const offset = received(a.raw)[0]![1];
    await drop(a, await first);
    node.io.to("room").emit("m", 2);

    isHolding = true;
    const b = await rawClient(node.port);
    b.ws.send(`40${JSON.stringify({ pid: a.pid, offset })}`);
    await waitUntil(() => held === 1, "the restore took the session");
    let isClosed = false;
    const closing = node.close().then(() => {
      isClosed = true;
    }); // a redeploy: the client's connection goes
    await waitFor(b.ws, "close");
    // The adapter does not close (and stop its reader) while the restore runs.
    await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 300))]);
    assert.equal(isClosed, false);
    for (const resolve of waiting) resolve();
    await closing;

    const next = await startNode();
    const c = await join(next.port, { pid: a.pid, offset });
    assert.equal(c.sid, a.sid);
    await waitUntil(() => received(c.raw).length === 1, "the missed packet");
    assert.deepEqual(numbers(c.raw), [2]);
  });

  /**
   * Stands between a node and Redis. From `lag()` on, its stream reader's XREAD replies wait
   * (a reader behind the stream's end, as under load), until the turn after a restore took a
   * session (GETDEL): a restore that did not wait for the reader has ended by then.
   */
  function readerGate(): {
    wrap: (client: RedisStreamsClient) => RedisStreamsClient;
    lag(): void;
    /** Resolves once every command the node sent so far has run. */
    flush(): Promise<unknown>;
  } {
    let isLagging = false;
    let main: RedisStreamsClient | undefined;
    const waiting: (() => void)[] = [];
    const catchUp = (): void => {
      isLagging = false;
      for (const resolve of waiting.splice(0)) resolve();
    };
    // The reader reads on a duplicate of the adapter's client.
    const reader = (client: RedisStreamsClient) =>
      intercepted(client, async (command) => {
        if (command === "XREAD" && isLagging) await new Promise<void>((r) => waiting.push(r));
      });
    return {
      wrap: (client) => {
        main = client;
        const onReply = async (command: unknown) => {
          if (command === "GETDEL") setImmediate(catchUp);
        };
        return intercepted(client, onReply, reader);
      },
      lag: () => {
        isLagging = true;
      },
      flush: () => main!.sendCommand(["PING"]),
    };
  }

  test("a node whose reader lags replays what a client missed up to the stream's end", async () => {
    const [onA, onB] = [readerGate(), readerGate()];
    const a = await startNode({ wrap: onA.wrap });
    const b = await startNode({ wrap: onB.wrap });
    const first = nextSocket(a);
    const joined = await join(a.port);
    a.io.to("room").emit("m", 1);
    await waitUntil(() => received(joined.raw).length === 1, "the first packet");
    const offset = received(joined.raw)[0]![1];
    await waitUntil(
      () => compareStreamIds(b.io.sockets.adapter.lastOffset() ?? "0-0", offset) >= 0,
      "b's reader read it",
    );
    await drop(joined, await first);
    await onA.flush(); // the session's SET

    onB.lag();
    a.io.local.emit("m", 2); // for a's sockets, which this one was
    await onA.flush();
    b.io.local.emit("m", 90); // for b's sockets, which this one was not
    b.io.to("room").emit("m", 3);
    await onB.flush();
    const back = await join(b.port, { pid: joined.pid, offset });
    assert.equal(back.sid, joined.sid);
    await waitUntil(() => received(back.raw).length >= 2, "the missed packets");
    b.io.to("room").emit("m", 4);
    await waitUntil(() => received(back.raw).length >= 3, "a live packet");
    assert.deepEqual(numbers(back.raw), [2, 3, 4]);
  });

  test("a broadcast sent while the adapter starts is stored, not delivered without an offset", async () => {
    const errors: AdapterError[] = [];
    const node = await startNode({ errors });
    await node.close();
    // A server restarted with broadcasts already coming: its reader is not started yet.
    const client = await redisClient(broker.url);
    clients.push(client);
    const { Server } = await import("../src/server/index.js");
    const io = new Server({
      adapter: createRedisStreamsAdapter(client as unknown as RedisStreamsClient, {
        onError: (error) => errors.push(error),
      }),
      connectionStateRecovery: {},
    });
    io.to("room").emit("m", 1);
    try {
      await waitUntil(async () => {
        const entries = await raw.xRange("switchboard:stream", "-", "+");
        return (entries ?? []).some((entry) => entry.message.stored === "1");
      }, "the broadcast stored in the stream");
      assert.deepEqual(
        errors.map((error) => error.message),
        [],
      );
    } finally {
      await io.close();
    }
  });

  test("after a restart, clients restoring at once from before it read the stream once", async () => {
    const first = await startNode();
    const joined: Joined[] = [];
    for (let i = 0; i < 5; i++) {
      const socket = nextSocket(first);
      joined.push(await join(first.port));
      await socket;
    }
    first.io.to("room").emit("m", 1);
    await waitUntil(() => joined.every((j) => received(j.raw).length === 1), "the first packet");
    const offset = received(joined[0]!.raw)[0]![1];
    closeRawClients();
    await waitUntil(() => first.io.sockets.sockets.size === 0, "every socket gone");
    first.io.to("room").emit("m", 2); // missed, before the restart
    await first.close(); // persists nothing more: the sessions are in Redis already

    let xranges = 0;
    const counting = (client: RedisStreamsClient): RedisStreamsClient =>
      intercepted(client, async (command) => {
        if (command === "XRANGE") xranges++;
      });
    const second = await startNode({ wrap: counting });
    second.io.to("room").emit("m", 3); // missed, after the restart
    await waitUntil(
      () => (second.io.sockets.adapter.lastOffset() ?? "") > offset,
      "the new node read its broadcast",
    );
    const back = await Promise.all(joined.map((j) => join(second.port, { pid: j.pid, offset })));
    for (const [i, b] of back.entries()) assert.equal(b.sid, joined[i]!.sid);
    await waitUntil(() => back.every((b) => received(b.raw).length === 2), "the missed packets");
    for (const b of back) assert.deepEqual(numbers(b.raw), [2, 3]);
    assert.equal(xranges, 1);
  });
});
