// Profile-only contestant "engine": Switchboard's Engine.IO server alone (an EngineServer
// with its defaults, the builtin WebSocket), no Socket.IO layer. With the ws client it
// measures what an Engine.IO handshake costs by itself, so that a cold handshake can be
// split by layer: `node bench/profile/instructions.mjs engine 1000 connect` against
// `... switchboard 1000 connect` and `... ws 1000 connect`. Not in `npm run bench`.
// Build dist/ first (npm run build).
import { once } from "node:events";
import { createServer } from "node:http";
import { EngineServer } from "../../../../dist/engine/index.js";

export async function start({ host, port }) {
  const http = createServer((_req, res) => res.writeHead(404).end());
  const engine = new EngineServer().attach(http);
  http.listen(port, host, 1024);
  await once(http, "listening");
  return {
    port: http.address().port,
    connections: () => engine.clientsCount,
    close: async () => {
      await engine.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
