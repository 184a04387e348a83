// Client driver for the profile-only "engine" contestant (see server.mjs): the `ws` client
// opening an Engine.IO WebSocket session (`/engine.io/?EIO=4&transport=websocket`), open
// at the 101 response as the ws contestant's is. Connect and close only.
import { openWebSocket } from "../../../contestants/ws/client.mjs";

export const meta = { echoModes: ["default"], transports: ["websocket"] };

export function connect({ host, port }) {
  return openWebSocket(`ws://${host}:${port}/engine.io/?EIO=4&transport=websocket`, (ws) => ({
    join: () => Promise.reject(new Error("the engine contestant has no rooms")),
    close: () => ws.close(),
  }));
}
