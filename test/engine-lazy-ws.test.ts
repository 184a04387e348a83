/**
 * The `ws` package is loaded only when the engine needs it (permessage-deflate,
 * `wsEngine: "ws"`, the bare-WebSocket mode): a server on the builtin engine never loads it.
 * Checked in a child process that runs the server alone, since any client (or another test)
 * in this process may have loaded `ws` already.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";

// The child: a Server with the given options, one WebSocket handshake with a raw socket;
// prints whether ws is in the module cache before and after, and the response's status line.
const SCRIPT = `
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { connect } from "node:net";
const { Server } = await import("./src/server/index.ts");
const isWsLoaded = () =>
  Object.keys(createRequire(process.cwd() + "/").cache).some((k) => k.includes("/node_modules/ws/"));
const http = createServer();
const io = new Server(http, JSON.parse(process.env.SERVER_OPTIONS));
await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
const before = isWsLoaded();
const socket = connect(http.address().port, "127.0.0.1");
socket.write(
  "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n" +
    "Upgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Version: 13\\r\\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n\\r\\n",
);
const answer = await new Promise((resolve) => socket.once("data", (d) => resolve(d.toString("latin1"))));
process.stdout.write(JSON.stringify({ before, after: isWsLoaded(), status: answer.split("\\r\\n")[0] }));
socket.destroy();
await io.close();
process.exit(0);
`;

interface Outcome {
  before: boolean;
  after: boolean;
  status: string;
}

function runServer(options: Record<string, unknown>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", SCRIPT],
      {
        cwd: new URL("..", import.meta.url).pathname,
        env: { ...process.env, SERVER_OPTIONS: JSON.stringify(options) },
        timeout: 30_000,
      },
      (err, stdout, stderr) =>
        err ? reject(new Error(stderr || err.message)) : resolve(JSON.parse(stdout)),
    );
  });
}

describe("engine: ws loaded on demand", () => {
  it("a server on the builtin engine answers a WebSocket handshake without loading ws", async () => {
    const outcome = await runServer({});
    assert.deepEqual(outcome, {
      before: false,
      after: false,
      status: "HTTP/1.1 101 Switching Protocols",
    });
  });

  it("wsEngine 'ws' and permessage-deflate load ws at their first upgrade, not before", async () => {
    for (const options of [{ wsEngine: "ws" }, { perMessageDeflate: true }]) {
      const outcome = await runServer(options);
      assert.deepEqual(
        outcome,
        { before: false, after: true, status: "HTTP/1.1 101 Switching Protocols" },
        JSON.stringify(options),
      );
    }
  });
});
