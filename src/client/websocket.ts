/**
 * The WebSocket transport: one Engine.IO packet per frame (engine.io-protocol v4 §websocket),
 * binary `message` packets as binary frames. Uses the platform `WebSocket` in browsers and
 * workers, and the `ws` package in Node (the platform's where `ws` cannot be loaded), whose
 * loading starts with this module's. What only Node runs sits behind `isNode`, which the browser bundles compile to
 * false (`scripts/build-client.mjs`), so they carry neither the `ws` import nor the corking.
 */
import { TransportError } from "../errors.js";
import { isNode, type TransportFactory } from "./transport.js";

type WebSocketCtor = new (url: string, init?: unknown) => WebSocket;
// The TCP socket under a `ws` WebSocket (its `_socket`); not there in browsers.
type Corkable = { cork?(): void; uncork(): void };

// `ws`, imported once: each `import()` of a loaded module still costs ~20 us. In Node its
// loading starts with this module's, so that the first connection does not wait for it
// (loading `ws` takes ~45 ms of CPU); a failure is handled where it is awaited.
let wsPackage: Promise<typeof import("ws")> | undefined;
if (isNode) {
  wsPackage = import("ws");
  wsPackage.catch(() => {});
}

/** Creates a WebSocket transport. */
export const websocket: TransportFactory = (sink, opts) => {
  let ws: WebSocket | undefined;
  let closed = false;
  let corked = false;
  // Reports the end once: an error event (the socket then closes by itself), a close event,
  // `ws` failing to load, or no WebSocket at all.
  const end = (cause?: unknown) => {
    if (closed) return;
    closed = true;
    sink.close(
      cause
        ? new TransportError("SB_ERR_TRANSPORT_ERROR", "websocket error", { cause })
        : undefined,
    );
  };
  const start = (Ctor: WebSocketCtor) => {
    if (closed) return;
    const url = sink.url("websocket");
    if (isNode) {
      // Node's built-in WebSocket accepts `{ headers }` in place of protocols.
      const headers = opts.extraHeaders;
      ws = new Ctor(url, headers && { headers });
    } else ws = new Ctor(url); // a browser takes any second argument for protocol names
    ws.binaryType = "arraybuffer";
    ws.onopen = () => sink.open?.();
    ws.onerror = end;
    ws.onclose = () => end();
    ws.onmessage = ({ data }) => sink.frame(typeof data === "string" ? data : new Uint8Array(data));
  };
  const Native = globalThis.WebSocket as WebSocketCtor | undefined;
  // Started after the current task, as the `ws` import is: its URL (made when it starts)
  // sees the sockets created right after their Manager.
  if (isNode) {
    // Node takes the `ws` package even where it has its own WebSocket (22+): `ws` lets the
    // writes of one turn be batched (below), and Node 24's costs twice the CPU per message
    // (bench/profile/client-echo.mjs). Without `ws`, the platform's.
    wsPackage ??= import("ws");
    wsPackage.then(
      ({ WebSocket: Ws }) => {
        if (closed) return;
        // No permessage-deflate offer: servers rarely accept it (Socket.IO's default is
        // off), and making the offer costs CPU per connection (a compressing connection
        // would also cost two zlib contexts).
        const socket = new Ws(sink.url("websocket"), {
          headers: opts.extraHeaders,
          perMessageDeflate: false,
        });
        socket.binaryType = "arraybuffer";
        // hot path: `ws`'s own events, not the `onmessage` ones (a MessageEvent per frame).
        socket.on("open", () => sink.open?.());
        socket.on("error", end);
        socket.on("close", () => end());
        socket.on("message", (data, isBinary) =>
          sink.frame(isBinary ? new Uint8Array(data as ArrayBuffer) : String(data)),
        );
        ws = socket as unknown as WebSocket;
      },
      (err) => (Native ? start(Native) : end(err)),
    );
  } else queueMicrotask(() => (Native ? start(Native) : end(new Error("no WebSocket"))));
  return {
    name: "websocket",
    // Only called once the socket is open (after the handshake, or for the probe on `open`):
    // sending on a closing socket drops the data without throwing.
    send(frames) {
      // hot path, Node's `ws` only: its TCP socket is corked until the current burst of
      // packets is queued (the replies to the frames of one read, dispatched at once), so
      // they leave in one system call, not one each. Browsers batch on their own.
      if (isNode) {
        const tcp = (ws as { _socket?: Corkable })._socket;
        if (tcp?.cork && !corked) {
          corked = true;
          tcp.cork();
          queueMicrotask(() => {
            corked = false;
            tcp.uncork();
          });
        }
      }
      for (const f of frames) ws!.send(f);
    },
    close() {
      closed = true;
      ws?.close();
    },
  };
};
