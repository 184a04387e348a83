/**
 * Our client over `wss:` in Node (src/client/node-websocket.ts on node:tls): it checks the
 * server's certificate as `tls.connect` does by default, so a certificate nobody vouches for
 * is refused, and one the process trusts (here through NODE_EXTRA_CA_CERTS, in a child
 * process) carries the session. The certificate is made for the test with openssl.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { io } from "../src/client/index.js";
import { Server } from "../src/server/index.js";
import { makeTestCertificate } from "./support/test-certificate.js";

const certificate = makeTestCertificate();
const certFile = certificate?.certFile ?? "";

describe("our client over wss: (Node)", {
  skip: certificate ? false : "openssl is missing",
}, () => {
  let server: Server;
  let port = 0;

  before(async () => {
    const https = createServer({ cert: certificate!.cert, key: certificate!.key });
    server = new Server(https);
    server.on("connection", (socket) =>
      socket.on("echo", (data, ack) => (ack as (reply: unknown) => void)(data)),
    );
    await new Promise<void>((resolve) => https.listen(0, "127.0.0.1", resolve));
    port = (https.address() as AddressInfo).port;
  });

  after(async () => {
    await server.close();
    certificate!.remove();
  });

  it("refuses a certificate the process does not trust", { timeout: 10_000 }, async () => {
    const socket = io(`https://localhost:${port}`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    try {
      const err = await new Promise<Error>((resolve) => socket.on("connect_error", resolve));
      // The certificate error, somewhere down the chain of causes.
      const codes: unknown[] = [];
      for (let e: unknown = err; e instanceof Error; e = e.cause)
        codes.push((e as { code?: unknown }).code);
      assert.ok(codes.includes("DEPTH_ZERO_SELF_SIGNED_CERT"), `causes: ${codes.join(", ")}`);
      assert.equal(server.engine.clientsCount, 0);
    } finally {
      socket.disconnect();
    }
  });

  for (const transport of ["websocket", "polling"] as const) {
    it(`trusts the certificate authority given in \`ca\` (${transport})`, {
      timeout: 10_000,
    }, async () => {
      const socket = io(`https://localhost:${port}`, {
        transports: [transport],
        reconnection: false,
        forceNew: true,
        ca: certificate!.cert,
      });
      try {
        const reply = await socket.timeout(5000).emitWithAck("echo", `over ${transport}`);
        assert.equal(reply, `over ${transport}`);
        assert.equal(socket.io.engine?.transport.name, transport);
      } finally {
        socket.disconnect();
      }
    });
  }

  it("accepts any certificate with rejectUnauthorized: false", { timeout: 10_000 }, async () => {
    const socket = io(`https://127.0.0.1:${port}`, {
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      rejectUnauthorized: false,
    });
    try {
      assert.equal(await socket.timeout(5000).emitWithAck("echo", 1), 1);
    } finally {
      socket.disconnect();
    }
  });

  it("connects and round-trips over TLS when the certificate is trusted", {
    timeout: 20_000,
  }, async () => {
    // NODE_EXTRA_CA_CERTS is read when a process starts: a child process that trusts it.
    const script = [
      'import { io } from "./src/client/index.ts";',
      `const socket = io("https://localhost:${port}", { transports: ["websocket"], reconnection: false });`,
      'socket.on("connect_error", (err) => { console.log("error", err.cause?.cause?.code ?? err.message); process.exit(1); });',
      'const reply = await socket.timeout(5000).emitWithAck("echo", { text: "over tls", n: 1 });',
      "console.log(JSON.stringify(reply));",
      "socket.disconnect();",
    ].join("\n");
    const out = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", script],
        {
          cwd: new URL("..", import.meta.url).pathname,
          env: { ...process.env, NODE_EXTRA_CA_CERTS: certFile },
          timeout: 15_000,
        },
        (err, stdout) => (err ? reject(new Error(`${err.message}\n${stdout}`)) : resolve(stdout)),
      );
    });
    assert.deepEqual(JSON.parse(out.trim()), { text: "over tls", n: 1 });
  });
});
