// Client driver for the profile-only "engine" contestant (see server.mjs): the `ws` client
// opening an Engine.IO WebSocket session (`/engine.io/?EIO=4&transport=websocket`), open
// at the 101 response as the ws contestant's is. Connect and close only.
import WebSocket from "ws";

export const meta = { echoModes: ["default"], transports: ["websocket"] };

export function connect({ host, port }) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${port}/engine.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: false,
    });
    const onError = (err) => {
      ws.terminate();
      reject(err);
    };
    ws.once("error", onError);
    ws.once("open", () => {
      ws.off("error", onError);
      resolve({
        join: () => Promise.reject(new Error("the engine contestant has no rooms")),
        close: () => ws.close(),
      });
    });
  });
}
