/**
 * `Client`: one Engine.IO connection, multiplexing one `Socket` per joined namespace. It
 * decodes Socket.IO packets, routes them to namespaces, and writes encoded packets out.
 *
 * ```
 * engine "message" ─> decoder ─> CONNECT ──> namespace join (middleware) ─> Socket
 *                                other   ──> the namespace's Socket.onPacket
 * ```
 */
import type { BroadcastFlags, EncodedPacket } from "../adapter/adapter.js";
import type { EngineSocket } from "../engine/index.js";
import {
  encodeSocketPacket,
  type SocketDecoderLimits,
  type SocketPacket,
  SocketPacketDecoder,
  SocketPacketType,
} from "../protocol/socket-packet.js";
import type { DisconnectReason } from "./disconnect-reason.js";

/** What a client needs of one of its namespace sockets. */
interface NamespaceSocket {
  readonly id: string;
  readonly nsp: { readonly name: string };
  onPacket(packet: SocketPacket): void;
  onClose(reason: DisconnectReason, description?: unknown): void;
  onError(err: Error): void;
  disconnect(): unknown;
}

/** What a client needs of its server. */
export interface ClientHost {
  readonly decoderLimits: SocketDecoderLimits;
  readonly connectTimeout: number;
  log(message: string): void;
  resolveNamespace(
    name: string,
    auth: unknown,
    done: (
      nsp:
        | {
            readonly name: string;
            addClient(
              client: Client,
              auth: unknown,
              onConnected: (socket: NamespaceSocket) => void,
            ): void;
          }
        | undefined,
    ) => void,
  ): void;
}

// Engine close reasons map one to one onto Socket.IO's disconnect reasons.
const ENGINE_REASONS: ReadonlySet<string> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "parse error",
  "server shutting down",
]);

/** A Socket.IO connection: one Engine.IO session and its namespace sockets. */
export class Client {
  /** The Engine.IO session. */
  readonly conn: EngineSocket;
  readonly #server: ClientHost;
  readonly #decoder: SocketPacketDecoder;
  readonly #sockets = new Map<string, NamespaceSocket>();
  readonly #byNamespace = new Map<string, NamespaceSocket>();
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  readonly #onMessage = (data: string | Uint8Array): void => this.#onData(data);
  readonly #onClose = (reason: string, description?: unknown): void =>
    this.#onEngineClose(reason, description);

  constructor(server: ClientHost, conn: EngineSocket) {
    this.#server = server;
    this.conn = conn;
    this.#decoder = new SocketPacketDecoder(server.decoderLimits);
    conn.on("message", this.#onMessage);
    conn.on("close", this.#onClose);
    // A connection that joins no namespace in time is closed (Socket.IO `connectTimeout`).
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = undefined;
      if (this.#byNamespace.size === 0) {
        server.log(`closing ${conn.id}: no namespace joined within connectTimeout`);
        this.#closeEngine("forced server close");
      }
    }, server.connectTimeout);
  }

  /** Encodes and writes one packet. Returns false when nothing was written. @internal */
  writePacket(packet: SocketPacket, flags: BroadcastFlags): boolean {
    return this.writeEncoded(encodeSocketPacket(packet), flags);
  }

  /**
   * Writes an already encoded packet (the same frames for every socket of a broadcast).
   * hot path: no allocation per call beyond the engine's own.
   * @internal
   */
  writeEncoded(encoded: EncodedPacket, flags: BroadcastFlags): boolean {
    const conn = this.conn;
    if (conn.readyState !== "open") return false;
    if (flags.volatile === true && !isWritable(conn)) return false;
    const options = flags.compress === false ? NO_COMPRESS : COMPRESS;
    for (let i = 0; i < encoded.length; i++) conn.send(encoded[i]!, options);
    return true;
  }

  /** Forgets a socket that left its namespace. @internal */
  removeSocket(socket: NamespaceSocket): void {
    if (this.#sockets.delete(socket.id)) this.#byNamespace.delete(socket.nsp.name);
  }

  /** Closes a connection its client has replaced with a new one (`"transport close"`). @internal */
  abandon(): void {
    this.#server.log(`closing ${this.conn.id}: its client reconnected on a new connection`);
    this.#closeEngine("transport close");
  }

  /** Disconnects every namespace, then closes the connection. @internal */
  disconnectAll(): void {
    for (const socket of [...this.#sockets.values()]) socket.disconnect();
    this.#closeEngine("forced server close");
  }

  #onData(data: string | Uint8Array): void {
    const result = this.#decoder.add(data);
    if (!result.ok) {
      this.#server.log(`closing ${this.conn.id}: ${result.error.code} ${result.error.message}`);
      for (const socket of [...this.#sockets.values()]) socket.onError(result.error);
      this.#closeEngine("parse error", result.error);
      return;
    }
    if (result.value !== undefined) this.#onPacket(result.value);
  }

  #onPacket(packet: SocketPacket): void {
    const socket = this.#byNamespace.get(packet.nsp);
    if (packet.type === SocketPacketType.CONNECT) {
      if (socket === undefined) this.#connect(packet.nsp, packet.data);
      else this.#protocolViolation(`duplicate CONNECT for namespace ${packet.nsp}`);
      return;
    }
    if (socket === undefined || packet.type === SocketPacketType.CONNECT_ERROR) {
      // Packets for a namespace the client has not joined: ignored, as in Socket.IO (a
      // DISCONNECT may race a server-side disconnect).
      this.#server.log(`ignoring packet type ${packet.type} for ${packet.nsp} on ${this.conn.id}`);
      return;
    }
    socket.onPacket(packet);
  }

  #connect(name: string, auth: unknown): void {
    this.#server.resolveNamespace(name, auth, (nsp) => {
      if (this.conn.readyState !== "open") return;
      if (nsp === undefined) {
        this.writePacket(
          {
            type: SocketPacketType.CONNECT_ERROR,
            nsp: name,
            data: { message: "Invalid namespace" },
          },
          {},
        );
        return;
      }
      nsp.addClient(this, auth, (socket) => {
        this.#sockets.set(socket.id, socket);
        this.#byNamespace.set(nsp.name, socket);
        if (this.#connectTimer !== undefined) {
          clearTimeout(this.#connectTimer);
          this.#connectTimer = undefined;
        }
      });
    });
  }

  #protocolViolation(message: string): void {
    this.#server.log(`closing ${this.conn.id}: ${message}`);
    this.#closeEngine("parse error");
  }

  #closeEngine(reason: DisconnectReason, description?: unknown): void {
    // Sockets learn our reason first; the engine's own "forced close" that follows is ignored.
    this.#shutdown(reason, description);
    if (this.conn.readyState === "open" || this.conn.readyState === "opening") this.conn.close();
  }

  #onEngineClose(reason: string, description?: unknown): void {
    this.#shutdown(
      (ENGINE_REASONS.has(reason) ? reason : "transport close") as DisconnectReason,
      description,
    );
  }

  #shutdown(reason: DisconnectReason, description?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.off("message", this.#onMessage);
    this.conn.off("close", this.#onClose);
    if (this.#connectTimer !== undefined) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.#decoder.reset();
    for (const socket of [...this.#sockets.values()]) socket.onClose(reason, description);
    this.#sockets.clear();
    this.#byNamespace.clear();
  }
}

const COMPRESS = { compress: true } as const;
const NO_COMPRESS = { compress: false } as const;

function isWritable(conn: EngineSocket): boolean {
  return (conn.transport as { writable?: boolean }).writable !== false;
}
