// Client driver for the raw-ws protocol ({"e": event, "d": data} text frames).
// Also used by other contestants whose servers speak the same protocol (uws).
import WebSocket from "ws";

/** One echo mode; WebSocket only. */
export const meta = { echoModes: ["default"], transports: ["websocket"] };

const noop = () => {};

class Conn {
  constructor(ws) {
    this.ws = ws;
    this.echoFn = noop;
    this.bcastFn = noop;
    this.joinWaiters = [];
    ws.on("message", (raw) => {
      const msg = JSON.parse(raw.toString());
      switch (msg.e) {
        case "echo":
          this.echoFn(msg.d);
          break;
        case "bcast":
          this.bcastFn(msg.d);
          break;
        case "joined":
          this.joinWaiters.shift()?.();
          break;
        default:
          break;
      }
    });
    ws.on("error", noop);
  }
  sendEcho(data) {
    this.ws.send(JSON.stringify({ e: "echo", d: data }));
  }
  onEchoReply(fn) {
    this.echoFn = fn;
  }
  join(room) {
    return new Promise((resolve) => {
      this.joinWaiters.push(resolve);
      this.ws.send(JSON.stringify({ e: "join", d: room }));
    });
  }
  onBroadcast(fn) {
    this.bcastFn = fn;
  }
  close() {
    this.ws.close();
  }
}

export function connect({ host, port }) {
  return openWebSocket(`ws://${host}:${port}/`, (ws) => new Conn(ws));
}

/**
 * Opens a ws client (no compression) to `url`; resolves with `wrap(ws)` once it is open,
 * rejects (the socket dropped) on an error before that.
 */
export function openWebSocket(url, wrap) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const onError = (err) => {
      ws.terminate();
      reject(err);
    };
    ws.once("error", onError);
    ws.once("open", () => {
      ws.off("error", onError);
      resolve(wrap(ws));
    });
  });
}
