// Contestant "uws": uWebSockets.js (native) speaking the same JSON protocol as
// contestant "ws"; rooms are uWS topics (subscribe/publish).
// uWebSockets.js is not published on npm by its author; this loads the
// prebuilt binary shipped in @trufflesuite/uws-js-unofficial (uWS.js v20.30.0).
// The binary is required directly so we fail loudly instead of silently using
// that package's pure-JS fallback.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const uWS = require(
  `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
);

export async function start({ host, port }) {
  let connections = 0;
  const app = uWS.App().ws("/*", {
    compression: uWS.DISABLED,
    maxPayloadLength: 1024 * 1024,
    // uWS drops sends above maxBackpressure; allow deep queues so a burst is never dropped.
    maxBackpressure: 64 * 1024 * 1024,
    open: () => {
      connections++;
    },
    message: (ws, message) => {
      let msg;
      try {
        msg = JSON.parse(Buffer.from(message).toString());
      } catch {
        ws.end(1007, "bad json");
        return;
      }
      switch (msg.e) {
        case "echo":
          ws.send(JSON.stringify({ e: "echo", d: msg.d }), false);
          break;
        case "join":
          ws.subscribe(String(msg.d));
          ws.send(JSON.stringify({ e: "joined", d: msg.d }), false);
          break;
        default:
          break;
      }
    },
    close: () => {
      connections--;
    },
  });
  const listenSocket = await new Promise((resolve) => app.listen(host, port, resolve));
  if (!listenSocket) throw new Error(`uws: could not listen on ${host}:${port}`);

  return {
    port: uWS.us_socket_local_port(listenSocket),
    broadcast(room, event, data) {
      app.publish(String(room), JSON.stringify({ e: event, d: data }), false);
    },
    connections: () => connections,
    close: async () => {
      uWS.us_listen_socket_close(listenSocket);
    },
  };
}
