/**
 * The chat demo behind `npm start`: an http server on port 3000 (or `PORT`) serving a chat
 * page and a Switchboard server on the in-memory adapter.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Server } from "../server/index.js";

/** Message shapes of the demo chat. */
interface ChatMessage {
  id: string;
  from: string;
  text: string;
}
interface ClientToServer {
  chat(msg: { from: string; text: string }): void;
}
interface ServerToClient {
  chat(msg: ChatMessage): void;
  history(messages: ChatMessage[]): void;
  system(text: string): void;
  online(count: number): void;
}

/** How many recent messages a (re)connecting page is sent, so it can fill any gap. */
const HISTORY = 100;

/**
 * The demo page's client: `switchboard/client`, bundled at start-up exactly as
 * `dist/client/switchboard.min.js` is (`scripts/build-client.mjs`: what only Node runs left
 * out). The script and esbuild, a devDependency, are in a checkout after `npm install`.
 */
async function loadClientBundle(): Promise<Uint8Array> {
  const script = new URL("../../scripts/build-client.mjs", import.meta.url);
  const { bundle } = (await import(script.href)) as {
    bundle(entry: string): Promise<Uint8Array>;
  };
  return bundle("src/client/index.ts");
}

function clean(value: unknown, max: number): string {
  return typeof value === "string" ? value.slice(0, max).trim() : "";
}

/** Starts the demo; resolves with the server and its port. */
export async function startDemo(
  port: number,
): Promise<{ io: Server<ClientToServer, ServerToClient>; port: number }> {
  const page = await readFile(new URL("./demo/index.html", import.meta.url), "utf8");
  const client = await loadClientBundle();
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/" || req.url === "/index.html") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
    } else if (req.url === "/client.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" }).end(client);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  // bareWebSocket: plain WebSocket clients chat too (`websocat ws://localhost:3000/ws?name=me`,
  // then send {"event":"chat","args":[{"text":"hi"}]}).
  const io = new Server<ClientToServer, ServerToClient>(http, { bareWebSocket: true });
  // Message ids carry this run's epoch, so ids never repeat across restarts; pages drop
  // messages they already show (history overlaps what they saw live).
  const epoch = Date.now().toString(36);
  let seq = 0;
  const history: ChatMessage[] = [];
  io.on("connection", (socket) => {
    const name =
      clean(socket.handshake.auth.name, 24) || clean(socket.handshake.query.name, 24) || "guest";
    // A recovered page got what it missed already; any other one gets the recent history.
    if (!socket.recovered) socket.emit("history", history);
    io.emit("online", io.sockets.sockets.size);
    socket.broadcast.emit("system", `${name} joined`);
    socket.on("chat", (msg) => {
      const text = clean(msg?.text, 500);
      if (text === "") return;
      const message = { id: `${epoch}-${seq++}`, from: clean(msg.from, 24) || name, text };
      history.push(message);
      if (history.length > HISTORY) history.shift();
      io.emit("chat", message);
    });
    socket.on("disconnect", (reason) => {
      if (reason === "server shutting down") return;
      io.emit("online", io.sockets.sockets.size);
      io.emit("system", `${name} left`);
    });
  });
  await new Promise<void>((resolve) => http.listen(port, resolve));
  const address = http.address();
  return { io, port: typeof address === "object" && address !== null ? address.port : port };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { port } = await startDemo(Number(process.env.PORT ?? 3000));
  console.log(`Switchboard chat demo on http://localhost:${port}`);
  console.log(`plain WebSocket clients: ws://localhost:${port}/ws?name=you`);
}
