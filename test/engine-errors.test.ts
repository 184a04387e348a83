/**
 * Refused requests and hostile input: each Engine.IO error code with its exact status and
 * JSON body and a "connection_error" event, protocol violations that close one session, and
 * a healthy client still working after each.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { after, afterEach, before, describe, it } from "node:test";
import fc from "fast-check";
import type { EngineConnectionError, EngineSocket } from "../src/engine/index.js";
import {
  type EngineHarness,
  httpRequest,
  pollingHandshake,
  refusedUpgrade,
  startEngine,
  until,
  waitFor,
  waitForAny,
} from "./engine-helpers.js";

const MAX = 1000;

describe("engine errors", () => {
  let harness: EngineHarness;
  let errors: EngineConnectionError[];

  before(async () => {
    harness = await startEngine({
      maxHttpBufferSize: MAX,
      allowRequest: (req, callback) => callback("go away", !req.url?.includes("deny=1")),
    });
    harness.engine.on("connection_error", (error) => errors.push(error));
  });
  after(() => harness.stop());
  afterEach(async () => {
    // After every bad input, a healthy client still connects and exchanges a message.
    const serverSide = harness.nextConnection();
    const client = harness.connect({ transports: ["polling"] });
    const server = await serverSide;
    const echoed = waitFor<[string]>(client, "message");
    server.on("message", (data) => server.send(data));
    client.send("still alive");
    assert.equal((await echoed)[0], "still alive");
    client.close();
    await waitFor(server, "close");
  });

  const expectError = async (query: string, method: string, code: number, message: string) => {
    errors = [];
    const res = await httpRequest(harness.url(query), { method });
    assert.equal(res.status, code === 4 ? 403 : 400);
    assert.equal(res.headers["content-type"], "application/json");
    assert.equal(res.text, JSON.stringify({ code, message }));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, code);
    assert.equal(errors[0]?.message, message);
  };

  it("answers code 0 for a missing or unknown transport", async () => {
    await expectError("", "GET", 0, "Transport unknown");
    await expectError("&transport=carrier-pigeon", "GET", 0, "Transport unknown");
  });

  it("answers code 1 for an unknown sid, over HTTP and WebSocket", async () => {
    await expectError("&transport=polling&sid=nope", "GET", 1, "Session ID unknown");
    const refused = await refusedUpgrade(
      `ws://127.0.0.1:${harness.port}/engine.io/?EIO=4&transport=websocket&sid=nope`,
    );
    assert.deepEqual(refused, { status: 400, body: '{"code":1,"message":"Session ID unknown"}' });
  });

  it("answers code 2 for a handshake that is not a GET", async () => {
    await expectError("&transport=polling", "POST", 2, "Bad handshake method");
    await expectError("&transport=polling", "PUT", 2, "Bad handshake method");
  });

  it("answers code 3 for a websocket handshake over plain HTTP", async () => {
    await expectError("&transport=websocket", "GET", 3, "Bad request");
  });

  it("answers code 4 when allowRequest refuses, over HTTP and WebSocket", async () => {
    await expectError("&transport=polling&deny=1", "GET", 4, "Forbidden");
    assert.equal(errors[0]?.context.message, "go away");
    const refused = await refusedUpgrade(
      `ws://127.0.0.1:${harness.port}/engine.io/?EIO=4&transport=websocket&deny=1`,
    );
    assert.deepEqual(refused, { status: 403, body: '{"code":4,"message":"Forbidden"}' });
  });

  it("answers code 5 for a missing EIO or EIO=3 (Engine.IO v3 is not supported)", async () => {
    errors = [];
    const v3 = await httpRequest(`${harness.origin}/engine.io/?EIO=3&transport=polling`);
    assert.equal(v3.status, 400);
    assert.equal(v3.text, '{"code":5,"message":"Unsupported protocol version"}');
    const none = await httpRequest(`${harness.origin}/engine.io/?transport=polling`);
    assert.equal(none.text, '{"code":5,"message":"Unsupported protocol version"}');
    assert.deepEqual(
      errors.map((error) => error.code),
      [5, 5],
    );
  });

  it("refuses a websocket upgrade for a session already on websocket with 400 Bad request", async () => {
    const raw = harness.rawWebSocket("&transport=websocket");
    const open = JSON.parse(String(await raw.next()).slice(1)) as { sid: string };
    const refused = await refusedUpgrade(
      `ws://127.0.0.1:${harness.port}/engine.io/?EIO=4&transport=websocket&sid=${open.sid}`,
    );
    assert.deepEqual(refused, { status: 400, body: '{"code":3,"message":"Bad request"}' });
    assert.ok(harness.engine.clients.has(open.sid), "the existing session is untouched");
  });

  it("closes a session whose client sends a second concurrent GET", async () => {
    const { sid } = await pollingHandshake(harness);
    const session = harness.engine.clients.get(sid)!;
    const closed = waitFor<[string]>(session, "close");
    const first = httpRequest(harness.url(`&transport=polling&sid=${sid}`));
    await until(() => session.transport.writable, 3000, "the first GET to be pending");
    const second = await httpRequest(harness.url(`&transport=polling&sid=${sid}`));
    assert.equal(second.status, 400);
    assert.equal((await closed)[0], "transport error");
    assert.equal((await first).text, "1", "the pending GET gets a close packet");
  });

  it("closes a session with 'transport error' when the client aborts its pending GET", async () => {
    const { sid } = await pollingHandshake(harness);
    const session = harness.engine.clients.get(sid)!;
    const closed = waitFor<[string, Error]>(session, "close");
    const controller = new AbortController();
    const aborted = fetch(harness.url(`&transport=polling&sid=${sid}`), {
      signal: controller.signal,
    }).catch(() => "aborted");
    await until(() => session.transport.writable, 3000, "the GET to be pending");
    controller.abort();
    assert.equal(await aborted, "aborted");
    const [reason, description] = await closed;
    assert.equal(reason, "transport error");
    assert.match(description.message, /closed prematurely/);
  });

  it("closes a session whose client sends a second concurrent POST", async () => {
    const { sid } = await pollingHandshake(harness);
    const session = harness.engine.clients.get(sid)!;
    const closed = waitFor<[string]>(session, "close");
    // A POST whose body never ends stays pending on the server. Listeners added after
    // attach() run after the engine's, so this resolves once the engine holds the POST.
    const arrived = waitFor(harness.http, "request");
    const first = request(harness.url(`&transport=polling&sid=${sid}`), {
      method: "POST",
      headers: { "Content-Length": 100 },
    });
    first.on("error", () => {});
    first.write("4partial");
    await arrived;
    const second = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
      method: "POST",
      body: "4second",
    });
    assert.equal(second.status, 400);
    assert.equal((await closed)[0], "transport error");
    first.destroy();
  });

  it("answers 413 to a POST body over maxHttpBufferSize and closes the session", async () => {
    const { sid } = await pollingHandshake(harness);
    const session = harness.engine.clients.get(sid)!;
    const closed = waitFor<[string, Error]>(session, "close");
    const res = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
      method: "POST",
      body: `4${"x".repeat(MAX)}`,
    });
    assert.equal(res.status, 413);
    const [reason, description] = await closed;
    assert.equal(reason, "transport error");
    assert.equal((description as { code?: string }).code, "SB_ERR_PAYLOAD_TOO_LARGE");
  });

  it("answers 400 to a malformed payload and closes the session with 'parse error'", async () => {
    for (const body of ["9nine", "", "4ok\x1e", "bnot base64!"]) {
      const { sid } = await pollingHandshake(harness);
      const session = harness.engine.clients.get(sid)!;
      const closed = waitFor<[string]>(session, "close");
      const res = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
        method: "POST",
        body,
      });
      assert.equal(res.status, 400, `body ${JSON.stringify(body)}`);
      assert.equal((await closed)[0], "parse error");
    }
  });

  it("closes a websocket session on an oversized frame (1009) and on garbage frames", async () => {
    const big = harness.rawWebSocket("&transport=websocket");
    await big.next();
    const bigSession = [...harness.engine.clients.values()].at(-1) as EngineSocket;
    const bigClosed = waitFor<[string]>(bigSession, "close");
    big.ws.send(`4${"y".repeat(MAX + 1)}`);
    assert.equal(await big.closed(), 1009);
    assert.equal((await bigClosed)[0], "transport error");

    for (const frame of ["", "x", "7seven", "b!!!"]) {
      const raw = harness.rawWebSocket("&transport=websocket");
      const open = JSON.parse(String(await raw.next()).slice(1)) as { sid: string };
      const session = harness.engine.clients.get(open.sid)!;
      const closed = waitFor<[string]>(session, "close");
      raw.ws.send(frame);
      assert.equal((await closed)[0], "parse error", `frame ${JSON.stringify(frame)}`);
      await raw.closed();
    }
  });

  it("survives arbitrary POST payloads: each is accepted or refused with 400", async () => {
    const payload = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .array(fc.constantFrom("0", "1", "2", "3", "4x", "5", "6", "b", "bAQI=", "9", ""), {
          maxLength: 6,
        })
        .map((parts) => parts.join("\x1e")),
    );
    await fc.assert(
      fc.asyncProperty(payload, async (body) => {
        const { sid } = await pollingHandshake(harness);
        const res = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
          method: "POST",
          body,
        });
        assert.ok(
          res.status === 200 || res.status === 400,
          `${res.status} for ${JSON.stringify(body)}`,
        );
        harness.engine.clients.get(sid)?.close();
      }),
      { numRuns: 60 },
    );
  });

  it("survives arbitrary WebSocket text frames", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }), async (frame) => {
        const raw = harness.rawWebSocket("&transport=websocket");
        const open = JSON.parse(String(await raw.next()).slice(1)) as { sid: string };
        const session = harness.engine.clients.get(open.sid)!;
        // Either the frame closes the session, or the message behind it arrives.
        const settled = waitForAny(session, ["message", "close"]);
        raw.ws.send(frame);
        raw.ws.send("4after");
        await settled;
        raw.ws.terminate();
        await raw.closed();
      }),
      { numRuns: 30 },
    );
  });

  it("closes a session whose client pings (only the server pings in v4)", async () => {
    const raw = harness.rawWebSocket("&transport=websocket");
    const open = JSON.parse(String(await raw.next()).slice(1)) as { sid: string };
    const closed = waitFor<[string]>(harness.engine.clients.get(open.sid)!, "close");
    raw.ws.send("2");
    assert.equal((await closed)[0], "transport error");
  });
});

describe("engine limits and ids", () => {
  it("refuses a payload with more than maxPacketsPerPayload packets as a parse error", async () => {
    const harness = await startEngine({ maxPacketsPerPayload: 3 });
    try {
      const { sid } = await pollingHandshake(harness);
      const session = harness.engine.clients.get(sid)!;
      const messages: unknown[] = [];
      session.on("message", (data) => messages.push(data));
      const ok = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
        method: "POST",
        body: "4a\x1e4b\x1e4c",
      });
      assert.equal(ok.text, "ok");
      assert.deepEqual(messages, ["a", "b", "c"]);
      const closed = waitFor<[string, Error]>(session, "close");
      const tooMany = await httpRequest(harness.url(`&transport=polling&sid=${sid}`), {
        method: "POST",
        body: "4a\x1e4b\x1e4c\x1e4d",
      });
      assert.equal(tooMany.status, 400);
      const [reason, description] = await closed;
      assert.equal(reason, "parse error");
      assert.equal((description as { code?: string }).code, "SB_ERR_TOO_MANY_PACKETS");
    } finally {
      await harness.stop();
    }
  });

  it("uses generateId, and refuses the handshake when it throws or repeats an id", async () => {
    let next: () => string = () => "custom-id";
    const harness = await startEngine({ generateId: () => next() });
    try {
      const { sid } = await pollingHandshake(harness);
      assert.equal(sid, "custom-id");
      const repeated = await httpRequest(harness.url("&transport=polling"));
      assert.equal(repeated.text, '{"code":3,"message":"Bad request"}');
      next = () => {
        throw new Error("no ids today");
      };
      const thrown = await httpRequest(harness.url("&transport=polling"));
      assert.equal(thrown.text, '{"code":3,"message":"Bad request"}');
    } finally {
      await harness.stop();
    }
  });

  it("refuses handshakes past maxConnections with code 4, and accepts again once one closes", async () => {
    const harness = await startEngine({ maxConnections: 2 });
    const refusals: EngineConnectionError[] = [];
    harness.engine.on("connection_error", (error) => refusals.push(error));
    try {
      const first = await pollingHandshake(harness);
      await pollingHandshake(harness);
      const full = await httpRequest(harness.url("&transport=polling"));
      assert.equal(full.status, 403);
      assert.equal(full.text, '{"code":4,"message":"Forbidden"}');
      const refused = await refusedUpgrade(
        `ws://127.0.0.1:${harness.port}/engine.io/?EIO=4&transport=websocket`,
      );
      assert.equal(refused.status, 403);
      assert.deepEqual(
        refusals.map((error) => error.context.name),
        ["TOO_MANY_CONNECTIONS", "TOO_MANY_CONNECTIONS"],
      );
      // An existing session keeps working; once one closes, a new one is accepted.
      const session = harness.engine.clients.get(first.sid)!;
      const closed = waitFor(session, "close");
      session.close();
      await httpRequest(harness.url(`&transport=polling&sid=${first.sid}`)); // takes the close packet
      await closed;
      const again = await pollingHandshake(harness);
      assert.ok(harness.engine.clients.has(again.sid));
    } finally {
      await harness.stop();
    }
  });
});
