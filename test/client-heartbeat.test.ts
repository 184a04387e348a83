import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { afterEach, describe, it } from "node:test";
import { type WebSocket, WebSocketServer } from "ws";
import { cleanup, connect, startOfficial, waitFor } from "./client-helpers.js";

const raws = new Set<WebSocketServer>();

afterEach(async () => {
  await cleanup();
  for (const wss of raws) {
    for (const ws of wss.clients) ws.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
  raws.clear();
});

/**
 * A bare WebSocket server that completes the Engine.IO and Socket.IO handshakes, then
 * does whatever `after` says (by default: nothing, not even ping).
 */
async function rawServer(after: (ws: WebSocket) => void = () => {}): Promise<string> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  raws.add(wss);
  await waitFor(wss, "listening");
  let n = 0;
  wss.on("connection", (ws) => {
    const sid = `s${++n}`;
    ws.send(
      `0{"sid":"${sid}","upgrades":[],"pingInterval":40,"pingTimeout":40,"maxPayload":100000}`,
    );
    ws.on("message", (data) => {
      if (String(data) === "40") {
        ws.send(`40{"sid":"${sid}"}`);
        after(ws);
      }
    });
  });
  return `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
}

describe("heartbeat", () => {
  it("answers the server's pings and stays connected", async () => {
    const server = await startOfficial({ pingInterval: 30, pingTimeout: 30 });
    const socket = connect(server.url, { transports: ["websocket"] });
    await waitFor(socket, "connect");
    let pings = 0;
    socket.io.on("ping", () => pings++);
    for (let i = 0; i < 4; i++) await waitFor(socket.io, "ping", 500);
    assert.equal(pings, 4);
    assert.equal(socket.connected, true);
  });

  it("closes with 'ping timeout' when the server goes silent, then reconnects", async () => {
    const url = await rawServer();
    const socket = connect(url, {
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 10,
      reconnectionDelayMax: 10,
    });
    await waitFor(socket, "connect");
    const started = Date.now();
    const [reason] = await waitFor(socket, "disconnect", 1000);
    assert.equal(reason, "ping timeout");
    assert.ok(Date.now() - started >= 70, "not before pingInterval + pingTimeout");
    await waitFor(socket.io, "reconnect_attempt");
    await waitFor(socket, "connect");
    assert.equal(socket.id, "s2");
  });

  it("closes with 'parse error' on a malformed Socket.IO packet", async () => {
    const url = await rawServer((ws) => ws.send("4not a packet"));
    const socket = connect(url, { transports: ["websocket"] });
    const [reason, err] = await waitFor(socket, "disconnect", 1000);
    assert.equal(reason, "parse error");
    assert.equal((err as Error).name, "ProtocolError");
  });

  it("fails the connection after the connect timeout", async () => {
    // Accepts the WebSocket but never sends the Engine.IO open packet.
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    raws.add(wss);
    await waitFor(wss, "listening");
    const url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    const socket = connect(url, { transports: ["websocket"], timeout: 50 });
    const [err] = await waitFor<[Error]>(socket, "connect_error", 1000);
    assert.equal(err.message, "timeout");
    assert.equal(err.name, "TimeoutError");
  });
});
