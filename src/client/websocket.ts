/**
 * The WebSocket transport: one Engine.IO packet per frame (engine.io-protocol v4 §websocket),
 * binary `message` packets as binary frames. Uses the platform `WebSocket` in browsers and
 * workers, and in Node its own client ({@link NodeWebSocket}, node-websocket.ts), whose
 * loading starts with this module's (the platform's `WebSocket` if it cannot be loaded).
 * What only Node runs sits behind `isNode`, which the browser bundles compile to false
 * (`scripts/build-client.mjs`), so they carry neither that module nor the corking.
 */
import { TransportError } from "../errors.js";
import type { RawData } from "../protocol/engine-packet.js";
import type { NodeWebSocket } from "./node-websocket.js";
import {
  type Frame,
  isNode,
  type TransportFactory,
  type TransportOptions,
  type TransportSink,
} from "./transport.js";

type WebSocketCtor = new (url: string, init?: unknown) => WebSocket;

const isBlob = (f: unknown): f is Blob => typeof Blob !== "undefined" && f instanceof Blob;

// The Node client's module, imported once (each `import()` of a loaded module still costs
// ~20 us). Its loading starts with this module's, so that the first connection does not
// wait for it; a failure is handled where it is awaited.
let nodeClient: Promise<typeof import("./node-websocket.js")> | undefined;
if (isNode) {
  nodeClient = import("./node-websocket.js");
  nodeClient.catch(() => {});
}

/** Creates a WebSocket transport. */
export const websocket: TransportFactory = (sink, opts) => {
  let ws: WebSocket | undefined;
  let node: NodeWebSocket | undefined;
  // Sends waiting for a Blob to be read (Node): set once one was sent.
  let blobs: Promise<void> | undefined;
  let closed = false;
  // Reports the end once: an error event (the socket then closes by itself), a close event,
  // the Node client failing to load, or no WebSocket at all.
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
    if (isNode) {
      // Node's built-in WebSocket accepts `{ headers }` in place of protocols (a browser's
      // would take any second argument for protocol names: it gets none).
      const headers = opts.extraHeaders;
      ws = new Ctor(sink.url("websocket"), headers && { headers });
    } else ws = new Ctor(sink.url("websocket"));
    ws.binaryType = "arraybuffer";
    ws.onopen = () => sink.open?.();
    ws.onerror = end;
    ws.onclose = () => end();
    ws.onmessage = ({ data }) => sink.frame(typeof data === "string" ? data : new Uint8Array(data));
  };
  const Native = globalThis.WebSocket as WebSocketCtor | undefined;
  // Started after the current task, as the Node client's import is: its URL (made when it
  // starts) sees the sockets created right after their Manager.
  if (isNode) {
    // Node takes its own client even where it has a platform WebSocket (22+): it lets the
    // writes of one turn be batched (below), and Node 24's costs twice the CPU per message
    // (bench/profile/client-echo.mjs).
    nodeClient!.then(
      ({ NodeWebSocket: Client }) => {
        if (!closed) node = openNodeClient(Client, sink, opts, end);
      },
      (err) => (Native ? start(Native) : end(err)),
    );
  } else queueMicrotask(() => (Native ? start(Native) : end(new Error("no WebSocket"))));
  return {
    name: "websocket",
    // Only called once the socket is open (after the handshake, or for the probe on `open`):
    // sending on a closing socket drops the data without throwing.
    send(frames) {
      if (isNode && node !== undefined) blobs = sendFromNode(node, frames, blobs, end);
      else for (const f of frames) ws!.send(f);
    },
    close() {
      closed = true;
      node?.close();
      ws?.close();
    },
  };
};

/** Opens the Node client (node-websocket.ts); undefined after reporting an invalid URL or header. */
function openNodeClient(
  Client: typeof NodeWebSocket,
  sink: TransportSink,
  opts: TransportOptions,
  end: (cause?: unknown) => void,
): NodeWebSocket | undefined {
  try {
    return new Client(
      sink.url("websocket"),
      opts.extraHeaders,
      { open: () => sink.open?.(), message: (data) => sink.frame(data), close: end },
      opts,
    );
  } catch (err) {
    end(err);
    return undefined;
  }
}

/**
 * Sends `frames` on the Node client and returns the Blob reads still pending, if any.
 * hot path: the Node client writes a burst of packets (the replies to the frames of one
 * read, dispatched at once) in one system call, not one each. Browsers batch on their own.
 */
function sendFromNode(
  client: NodeWebSocket,
  frames: readonly Frame[],
  blobs: Promise<void> | undefined,
  end: (cause?: unknown) => void,
): Promise<void> | undefined {
  if (blobs === undefined && !frames.some(isBlob)) {
    for (const f of frames) client.send(f as RawData);
    return undefined;
  }
  // A Blob attachment is read first; what is sent after it waits for it, in order.
  const pending = (blobs ?? Promise.resolve()).then(async () => {
    for (const f of frames) client.send(isBlob(f) ? new Uint8Array(await f.arrayBuffer()) : f);
  });
  pending.catch(end);
  return pending;
}
