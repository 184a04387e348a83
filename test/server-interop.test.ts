// The official socket.io-client against our server: transports, events, acks, binary.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import {
  closeClients,
  connected,
  startServer,
  type TestServer,
  waitFor,
} from "./support/harness.js";

let server: TestServer | undefined;
afterEach(async () => {
  closeClients();
  await server?.close();
  server = undefined;
});

const TRANSPORTS: Record<string, { transports?: ("websocket" | "polling")[] }> = {
  "websocket only": { transports: ["websocket"] },
  "polling only": { transports: ["polling"] },
  "polling then upgrade": {},
};

for (const [name, clientOpts] of Object.entries(TRANSPORTS)) {
  describe(`socket.io-client over ${name}`, () => {
    test("connects, and events flow both ways", async () => {
      server = await startServer();
      server.io.on("connection", (socket) => {
        socket.on("hello", (who: string) => socket.emit("welcome", `hi ${who}`, socket.id));
      });
      const client = server.client("/", { ...clientOpts });
      await connected(client);
      client.emit("hello", "ada");
      const [text, id] = await waitFor<[string, string]>(client, "welcome");
      assert.equal(text, "hi ada");
      assert.equal(id, client.id);
    });

    test("acks in both directions", async () => {
      server = await startServer();
      server.io.on("connection", (socket) => {
        socket.on("sum", (a: number, b: number, ack: (n: number) => void) => ack(a + b));
        socket.on("ask-me", async () => {
          const answer = await socket.timeout(2000).emitWithAck("question", "6x7?");
          socket.emit("answer-was", answer);
        });
      });
      const client = server.client("/", { ...clientOpts });
      client.on("question", (q: string, ack: (a: string) => void) => ack(`${q} 42`));
      await connected(client);
      assert.equal(await client.emitWithAck("sum", 2, 3), 5);
      client.emit("ask-me");
      const [answer] = await waitFor(client, "answer-was");
      assert.equal(answer, "6x7? 42");
    });

    test("binary payloads, nested, both ways", async () => {
      server = await startServer();
      server.io.on("connection", (socket) => {
        socket.on("echo", (payload: unknown, ack: (p: unknown) => void) => ack(payload));
        socket.emit("bin", Buffer.from([1, 2, 3]), { deep: [Buffer.from("xyz")] });
      });
      const client = server.client("/", { ...clientOpts });
      const [bin, nested] = await waitFor<
        [ArrayBuffer | Uint8Array, { deep: (ArrayBuffer | Uint8Array)[] }]
      >(client, "bin");
      assert.deepEqual([...new Uint8Array(bin as ArrayBuffer)], [1, 2, 3]);
      assert.equal(Buffer.from(nested.deep[0] as Uint8Array).toString(), "xyz");
      const sent = { list: [Buffer.from([9, 8]), "text", { inner: Buffer.from([7]) }] };
      const back = (await client.emitWithAck("echo", sent)) as {
        list: [Uint8Array, string, { inner: Uint8Array }];
      };
      assert.deepEqual([...Buffer.from(back.list[0])], [9, 8]);
      assert.equal(back.list[1], "text");
      assert.deepEqual([...Buffer.from(back.list[2].inner)], [7]);
    });
  });
}

describe("acks", () => {
  test("server emitWithAck with timeout rejects when the client never answers", async () => {
    server = await startServer();
    const result = new Promise<unknown>((resolve) => {
      server!.io.on("connection", (socket) => {
        socket.timeout(100).emitWithAck("silent").then(resolve, resolve);
      });
    });
    const client = server.client();
    client.on("silent", () => {});
    const err = await result;
    assert.ok(err instanceof Error);
    assert.equal((err as Error).message, "operation has timed out");
  });

  test("a client ack answered twice is delivered once", async () => {
    server = await startServer();
    let calls = 0;
    server.io.on("connection", (socket) => {
      socket.on("twice", (ack: (n: number) => void) => {
        ack(1);
        ack(2);
      });
    });
    const client = server.client();
    await connected(client);
    const first = await client.emitWithAck("twice");
    calls++;
    assert.equal(first, 1);
    assert.equal(calls, 1);
  });

  test("broadcast with ack collects one response per client", async () => {
    server = await startServer();
    const clients = [server.client(), server.client(), server.client()];
    for (const [i, c] of clients.entries()) c.on("vote", (ack: (n: number) => void) => ack(i));
    await Promise.all(clients.map((c) => connected(c)));
    const responses = await server.io.timeout(2000).emitWithAck("vote");
    assert.deepEqual([...responses].sort(), [0, 1, 2]);
  });

  test("broadcast with ack times out with the responses that arrived", async () => {
    server = await startServer();
    const a = server.client();
    const b = server.client();
    a.on("vote", (ack: (n: string) => void) => ack("a"));
    b.on("vote", () => {});
    await Promise.all([connected(a), connected(b)]);
    const outcome = await new Promise<[Error | null, unknown[]]>((resolve) => {
      server!.io
        .timeout(150)
        .emit("vote", (err: Error | null, responses: unknown[]) => resolve([err, responses]));
    });
    assert.ok(outcome[0] instanceof Error);
    assert.deepEqual(outcome[1], ["a"]);
  });

  test("broadcast with an ack but no timeout is a programmer error", async () => {
    server = await startServer();
    assert.throws(() => server!.io.emit("x", () => {}), /without a timeout/);
  });
});

describe("events", () => {
  test("onAny, onAnyOutgoing and per-packet middleware", async () => {
    server = await startServer();
    const seen: unknown[] = [];
    const outgoing: unknown[] = [];
    server.io.on("connection", (socket) => {
      socket.onAny((ev, ...args) => seen.push([ev, ...args]));
      socket.onAnyOutgoing((ev, ...args) => outgoing.push([ev, ...args]));
      socket.use(([ev], next) => (ev === "forbidden" ? next(new Error("not allowed")) : next()));
      socket.on("error", (err) => socket.emit("refused", err.message));
      socket.on("ping-me", () => socket.emit("pong-you", 1));
      socket.on("forbidden", () => socket.emit("should-not-happen"));
    });
    const client = server.client();
    await connected(client);
    client.emit("forbidden");
    const [message] = await waitFor(client, "refused");
    assert.equal(message, "not allowed");
    client.emit("ping-me", "x");
    await waitFor(client, "pong-you");
    assert.deepEqual(seen, [["forbidden"], ["ping-me", "x"]]);
    assert.deepEqual(outgoing, [
      ["refused", "not allowed"],
      ["pong-you", 1],
    ]);
  });

  test("emitting a reserved event name throws", async () => {
    server = await startServer();
    const threw = new Promise<unknown>((resolve) => {
      server!.io.on("connection", (socket) => {
        try {
          (socket.emit as (ev: string) => boolean)("disconnect");
          resolve(undefined);
        } catch (err) {
          resolve(err);
        }
      });
    });
    server.client();
    assert.match(String(await threw), /reserved event name/);
  });
});
