/**
 * The bare-WebSocket endpoint (`bareWebSocket` server option): upgrades on its path become
 * engine sessions over a {@link BareWebSocketTransport}, which then joins the namespace named
 * by `?nsp=` (default `/`; `?nsp=` empty joins none, for clients that send
 * `{"connect": ...}` with auth themselves).
 */
import type { Server as HttpServer, IncomingMessage } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { Duplex } from "node:stream";
import type { EngineServer } from "../engine/index.js";
import { BareWebSocketTransport } from "./bare-transport.js";

/** What the endpoint needs of the Socket.IO server. */
interface BareHost {
  readonly engine: EngineServer;
  readonly decoderLimits: { readonly maxDepth?: number };
}

/** Serves bare-WebSocket upgrades at `path` of `srv`. */
export function serveBareWebSocket(
  host: BareHost,
  srv: HttpServer | HttpsServer,
  path: string,
): void {
  srv.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== path && url.pathname !== `${path}/`) return;
    const nsp = url.searchParams.get("nsp") ?? "/";
    let transport: BareWebSocketTransport | undefined;
    host.engine.handleWebSocketSession(
      req,
      socket,
      head,
      (ws) => {
        transport = new BareWebSocketTransport(ws, host.decoderLimits.maxDepth ?? 32);
        return transport;
      },
      () => {
        if (nsp !== "") transport?.join(nsp.startsWith("/") ? nsp : `/${nsp}`);
      },
    );
  });
}
