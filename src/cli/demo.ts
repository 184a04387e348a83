/**
 * The chat demo behind `npm start`: an http server on port 3000 (or `PORT`) serving a chat
 * page and a Switchboard server on the in-memory adapter.
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Server } from "../server/index.js";

const require = createRequire(import.meta.url);

/** Message shapes of the demo chat. */
interface ChatMessage {
  from: string;
  text: string;
}
interface ClientToServer {
  chat(msg: ChatMessage): void;
}
interface ServerToClient {
  chat(msg: ChatMessage): void;
  system(text: string): void;
  online(count: number): void;
}

/** Where the demo's browser client comes from. */
async function loadClientBundle(): Promise<string> {
  // Until switchboard/client ships, the page uses the official client's ESM browser bundle.
  const main = require.resolve("socket.io-client"); // .../socket.io-client/build/cjs/index.js
  return readFile(join(main, "../../../dist/socket.io.esm.min.js"), "utf8");
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
  const io = new Server<ClientToServer, ServerToClient>(http);
  io.on("connection", (socket) => {
    const name = clean(socket.handshake.auth.name, 24) || "guest";
    io.emit("online", io.sockets.sockets.size);
    socket.broadcast.emit("system", `${name} joined`);
    socket.on("chat", (msg) => {
      const text = clean(msg?.text, 500);
      if (text !== "") io.emit("chat", { from: clean(msg.from, 24) || name, text });
    });
    socket.on("disconnect", () => {
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
}
