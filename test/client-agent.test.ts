/**
 * Our client's `agent` option in Node, as socket.io-client takes it: the WebSocket upgrade and
 * the polling requests go through the agent. The proxy is a real HTTP CONNECT proxy on
 * 127.0.0.1 (node:http's `connect` event, piped to the target), the agent the real
 * `https-proxy-agent` package, and the server ours; the proxy records every tunnel it opened,
 * so a client that ignored the agent would connect directly and fail these tests.
 * The upgrade's own checks through an agent (a refused or malformed 101) are tested against a
 * raw TCP server with a plain `http.Agent`.
 */
import assert from "node:assert/strict";
import { Agent, createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { type AddressInfo, createServer, type Socket, connect as tcpConnect } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { HttpsProxyAgent } from "https-proxy-agent";
import { type Socket as ClientSocket, io } from "../src/client/index.js";
import { NodeWebSocket } from "../src/client/node-websocket.js";
import { Server } from "../src/server/index.js";
import { makeTestCertificate } from "./support/test-certificate.js";

/** A CONNECT proxy: records each tunnel's target; refuses every tunnel while `isRefusing`. */
class ConnectProxy {
  readonly tunnels: string[] = [];
  isRefusing = false;
  readonly #http: HttpServer = createHttpServer((_req, res) => res.writeHead(405).end());
  readonly #sockets = new Set<Socket>();

  async start(): Promise<string> {
    this.#http.on("connect", (req, client: Socket, head: Buffer) => {
      this.#sockets.add(client);
      client.on("error", () => {}); // a client that goes away mid-tunnel: nothing to report
      if (this.isRefusing) {
        client.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      this.tunnels.push(req.url ?? "");
      const [host, port] = (req.url ?? "").split(":");
      const upstream = tcpConnect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      this.#sockets.add(upstream);
      upstream.on("error", () => client.destroy());
      client.on("close", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => this.#http.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.#http.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}

const clients = new Set<ClientSocket>();

function connectThrough(url: string, opts: Parameters<typeof io>[1]): ClientSocket {
  const socket = io(url, { forceNew: true, reconnection: false, ...opts });
  clients.add(socket);
  return socket;
}

function echoServer(server: Server): Server {
  server.on("connection", (socket) =>
    socket.on("echo", (data, ack) => (ack as (reply: unknown) => void)(data)),
  );
  return server;
}

afterEach(() => {
  for (const socket of clients) socket.disconnect();
  clients.clear();
});

describe("client agent option: through an HTTP CONNECT proxy (https-proxy-agent)", () => {
  const proxy = new ConnectProxy();
  let proxyUrl = "";
  let server: Server;
  let target = "";

  before(async () => {
    proxyUrl = await proxy.start();
    const http = createHttpServer();
    server = echoServer(new Server(http));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    target = `127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  after(async () => {
    await server.close();
    await proxy.stop();
  });

  for (const transports of [["websocket"], ["polling"], ["polling", "websocket"]]) {
    it(`carries acks over ${transports.join(" then ")} through the proxy`, async () => {
      proxy.isRefusing = false;
      proxy.tunnels.length = 0;
      const socket = connectThrough(`http://${target}`, {
        transports,
        agent: new HttpsProxyAgent(proxyUrl),
      });
      assert.equal(await socket.timeout(5000).emitWithAck("echo", "via proxy"), "via proxy");
      const last = transports[transports.length - 1];
      if (transports.length > 1) {
        for (let i = 0; i < 100 && socket.io.engine?.transport.name !== last; i++)
          await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(socket.io.engine?.transport.name, last);
      assert.ok(proxy.tunnels.length > 0, "no tunnel was opened: the agent was not used");
      assert.ok(
        proxy.tunnels.every((t) => t === target),
        `tunnels: ${proxy.tunnels.join(", ")}`,
      );
    });
  }

  it("connects directly with agent: false (polling and WebSocket)", async () => {
    proxy.tunnels.length = 0;
    const socket = connectThrough(`http://${target}`, { agent: false });
    assert.equal(await socket.timeout(5000).emitWithAck("echo", 7), 7);
    assert.equal(proxy.tunnels.length, 0);
  });

  for (const transport of ["websocket", "polling"]) {
    it(`reports a proxy that refuses the tunnel as connect_error (${transport})`, async () => {
      proxy.isRefusing = true;
      try {
        const socket = connectThrough(`http://${target}`, {
          transports: [transport],
          agent: new HttpsProxyAgent(proxyUrl),
        });
        const err = await new Promise<Error>((resolve) => socket.on("connect_error", resolve));
        assert.match(err.message, /websocket error|xhr poll error/);
        assert.equal(socket.connected, false);
      } finally {
        proxy.isRefusing = false;
      }
      // The server is untouched and still serves a direct client.
      const direct = connectThrough(`http://${target}`, { transports: [transport] });
      assert.equal(await direct.timeout(5000).emitWithAck("echo", "still up"), "still up");
    });
  }
});

const certificate = makeTestCertificate();

describe("client agent option over TLS", {
  skip: certificate ? false : "openssl is missing",
}, () => {
  const proxy = new ConnectProxy();
  let proxyUrl = "";
  let server: Server;
  let port = 0;

  before(async () => {
    proxyUrl = await proxy.start();
    const https = createHttpsServer({ cert: certificate!.cert, key: certificate!.key });
    server = echoServer(new Server(https));
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    port = (https.address() as AddressInfo).port;
  });

  after(async () => {
    await server.close();
    await proxy.stop();
    certificate!.remove();
  });

  for (const transport of ["websocket", "polling"]) {
    it(`checks the server's certificate against \`ca\` through the tunnel (${transport})`, async () => {
      proxy.tunnels.length = 0;
      const trusted = connectThrough(`https://localhost:${port}`, {
        transports: [transport],
        agent: new HttpsProxyAgent(proxyUrl),
        ca: certificate!.cert,
      });
      assert.equal(await trusted.timeout(5000).emitWithAck("echo", "tls"), "tls");
      assert.ok(proxy.tunnels.includes(`localhost:${port}`), proxy.tunnels.join(", "));
      // Without the CA, the same tunnel carries a TLS handshake that fails.
      const untrusted = connectThrough(`https://localhost:${port}`, {
        transports: [transport],
        agent: new HttpsProxyAgent(proxyUrl),
      });
      const err = await new Promise<Error>((resolve) => untrusted.on("connect_error", resolve));
      const codes: unknown[] = [];
      for (let e: unknown = err; e instanceof Error; e = e.cause)
        codes.push((e as { code?: unknown }).code);
      assert.ok(codes.includes("DEPTH_ZERO_SELF_SIGNED_CERT"), `causes: ${codes.join(", ")}`);
    });
  }
});

describe("NodeWebSocket: the upgrade through an agent", () => {
  let raw: ReturnType<typeof createServer>;
  let url = "";
  // What the raw server answers to the next upgrade request: a function of its key.
  let answer: (key: string, socket: Socket) => void = () => {};

  before(async () => {
    raw = createServer((socket) => {
      socket.on("error", () => {});
      let head = "";
      socket.on("data", (chunk) => {
        head += chunk.toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        const key = /sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? "";
        answer(key, socket);
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    url = `ws://127.0.0.1:${(raw.address() as AddressInfo).port}/path?x=1`;
  });

  after(() => new Promise<void>((resolve) => raw.close(() => resolve())));

  /** Opens a NodeWebSocket through a fresh http.Agent; resolves with what it reported. */
  function open(): Promise<{ opened: boolean; messages: unknown[]; err?: Error }> {
    return new Promise((resolve) => {
      const seen = { opened: false, messages: [] as unknown[] };
      const ws = new NodeWebSocket(
        url,
        { "x-test": "1" },
        {
          open: () => {
            seen.opened = true;
          },
          message: (data) => {
            seen.messages.push(data);
            ws.close();
          },
          close: (err) => resolve(err ? { ...seen, err } : seen),
        },
        { agent: new Agent() },
      );
    });
  }

  const accept = async (key: string) => {
    const { createHash } = await import("node:crypto");
    return createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
  };

  it("reads a frame sent in the same packet as the 101", async () => {
    answer = async (key, socket) => {
      const text = Buffer.from("hello");
      socket.write(
        Buffer.concat([
          Buffer.from(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
              `Sec-WebSocket-Accept: ${await accept(key)}\r\n\r\n`,
          ),
          Buffer.from([0x81, text.length]),
          text,
        ]),
      );
      socket.on("data", (chunk) => {
        if ((chunk[0]! & 0x0f) === 0x8) socket.end(); // our close frame: close the TCP
      });
    };
    const seen = await open();
    assert.equal(seen.err, undefined);
    assert.equal(seen.opened, true);
    assert.deepEqual(seen.messages, ["hello"]);
  });

  it("fails on an answer other than 101", async () => {
    answer = (_key, socket) => socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    const seen = await open();
    assert.equal(seen.opened, false);
    assert.equal(seen.err?.message, "Unexpected server response: 400");
  });

  it("fails on a wrong Sec-WebSocket-Accept", async () => {
    answer = (_key, socket) =>
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n",
      );
    const seen = await open();
    assert.equal(seen.opened, false);
    assert.equal(seen.err?.message, "Invalid Sec-WebSocket-Accept header");
  });

  it("fails on an extension it did not ask for", async () => {
    answer = async (key, socket) =>
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Accept: ${await accept(key)}\r\n` +
          "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
      );
    const seen = await open();
    assert.equal(seen.opened, false);
    assert.match(seen.err?.message ?? "", /sec-websocket-extensions header/);
  });

  it("reports a refused connection as an error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await new Promise<Error | undefined>((resolve) => {
      new NodeWebSocket(
        `ws://127.0.0.1:${port}/`,
        undefined,
        { open: () => {}, message: () => {}, close: resolve },
        { agent: new Agent() },
      );
    });
    assert.equal((err as { code?: string } | undefined)?.code, "ECONNREFUSED");
  });
});
