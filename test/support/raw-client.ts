/**
 * A raw WebSocket that speaks Engine.IO/Socket.IO by hand, for tests that need exact
 * control over the frames (malformed input, resent packets). Frames are recorded in order.
 */
import WebSocket from "ws";
import { waitFor } from "./harness.js";

/** An open raw connection and the frames received so far. */
export interface RawClient {
  ws: WebSocket;
  frames: (string | Buffer)[];
  /** Resolves with the first frame (from `from` on) that satisfies `match`. */
  next(match: (frame: string) => boolean, from?: number, ms?: number): Promise<string>;
}

const open = new Set<WebSocket>();

/** Opens a raw Engine.IO WebSocket session; resolves once the open packet arrived. */
export async function rawClient(port: number): Promise<RawClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  open.add(ws);
  const frames: (string | Buffer)[] = [];
  ws.on("message", (data, isBinary) => frames.push(isBinary ? (data as Buffer) : data.toString()));
  await waitFor(ws, "open");
  const client: RawClient = {
    ws,
    frames,
    async next(match, from = 0, ms = 2000) {
      const start = Date.now();
      for (;;) {
        for (let i = from; i < frames.length; i++) {
          const f = frames[i];
          if (typeof f === "string" && match(f)) return f;
        }
        if (Date.now() - start > ms)
          throw new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
  await client.next((f) => f.startsWith("0{"));
  return client;
}

/** Terminates every raw connection. Call in afterEach. */
export function closeRawClients(): void {
  for (const ws of open) ws.terminate();
  open.clear();
}
