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
import type { EngineSocket, EngineSocketHandler, SendOptions } from "../engine/index.js";
import {
  decodeSocketPacket,
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
  /** Where connections wait until they join a namespace or `connectTimeout` passes. */
  readonly connectDeadlines: { add(client: Client): void; delete(client: Client): void };
  log(message: string): void;
  /** The namespace of that exact name, when it exists. */
  findNamespace(name: string): JoinableNamespace | undefined;
  /** For a name with no namespace: the one a dynamic matcher creates, when one accepts it. */
  resolveNamespace(
    name: string,
    auth: unknown,
    done: (nsp: JoinableNamespace | undefined) => void,
  ): void;
}

/** What a client needs of a namespace to join it. */
interface JoinableNamespace {
  /** Joins `client`, which gets the socket through {@link Client.attach} if admitted. */
  addClient(client: Client, auth: unknown): void;
}

// Engine close reasons map one to one onto Socket.IO's disconnect reasons.
const ENGINE_REASONS: ReadonlySet<string> = new Set([
  "transport error",
  "transport close",
  "forced close",
  "ping timeout",
  "parse error",
  "slow consumer",
  "rate limit exceeded",
  "server shutting down",
]);

const COMPRESS: SendOptions = { compress: true };
const NO_COMPRESS: SendOptions = { compress: false };
const VOLATILE: SendOptions = { compress: true, volatile: true };
const VOLATILE_NO_COMPRESS: SendOptions = { compress: false, volatile: true };

function sendOptions(flags: BroadcastFlags): SendOptions {
  if (flags.volatile === true) return flags.compress === false ? VOLATILE_NO_COMPRESS : VOLATILE;
  return flags.compress === false ? NO_COMPRESS : COMPRESS;
}

/**
 * A Socket.IO connection: one Engine.IO session and its namespace sockets. It is the
 * session's {@link EngineSocketHandler}: messages come to it as direct calls, not events.
 */
export class Client implements EngineSocketHandler {
  /** The Engine.IO session. */
  readonly conn: EngineSocket;
  readonly #server: ClientHost;
  // Created with the first binary packet: text packets decode without state.
  #decoder: SocketPacketDecoder | undefined;
  // Memory per connection: most clients join one namespace, kept in a field; a map only
  // for a second one.
  #main: NamespaceSocket | undefined;
  #others: Map<string, NamespaceSocket> | undefined;
  #closed = false;

  /**
   * Takes over `conn`. Unless `joinsNow` (its handshake names a namespace, joined right
   * after: see {@link connectInHandshake}), a connection that joins no namespace within
   * `connectTimeout` is closed (Socket.IO's `connectTimeout`).
   */
  constructor(server: ClientHost, conn: EngineSocket, joinsNow = false) {
    this.#server = server;
    this.conn = conn;
    conn.setHandler(this);
    if (!joinsNow) server.connectDeadlines.add(this);
  }

  /** Encodes and writes one packet. Returns false when nothing was written. @internal */
  writePacket(packet: SocketPacket, flags: BroadcastFlags): boolean {
    return this.writeParts(encodeSocketPacket(packet), flags);
  }

  /**
   * Writes one packet's encoded parts, as {@link encodeSocketPacket} returns them. Returns
   * false when nothing was written. @internal
   */
  writeParts(encoded: EncodedPacket, flags: BroadcastFlags): boolean {
    // hot path: a packet without attachments is one string, sent without an array.
    if (encoded.length === 1) return this.writeText(encoded[0] as string, flags);
    return this.writeEncoded(encoded, flags);
  }

  /** Writes a packet encoded as one string. Returns false when nothing was written. @internal */
  writeText(text: string, flags: BroadcastFlags): boolean {
    return this.conn.trySend(text, sendOptions(flags));
  }

  /**
   * Writes an already encoded packet: a broadcast hands the very same array to each of its
   * sockets, so the engine builds its frames once for all of them.
   * hot path: no allocation per call.
   * @internal
   */
  writeEncoded(encoded: EncodedPacket, flags: BroadcastFlags): boolean {
    return this.conn.sendShared(encoded, sendOptions(flags));
  }

  /** Forgets a socket that left its namespace. @internal */
  removeSocket(socket: NamespaceSocket): void {
    if (this.#main === socket) this.#main = undefined;
    else if (this.#others?.get(socket.nsp.name) === socket) this.#others.delete(socket.nsp.name);
  }

  /** Closes a connection its client has replaced with a new one (`"transport close"`). @internal */
  abandon(): void {
    this.#server.log(`closing ${this.conn.id}: its client reconnected on a new connection`);
    this.closeEngine("transport close");
  }

  /** Disconnects every namespace, then closes the connection. @internal */
  disconnectAll(): void {
    for (const socket of this.all()) socket.disconnect();
    this.closeEngine("forced server close");
  }

  /** A message from the Engine.IO session. @internal */
  onMessage(data: string | Buffer): void {
    // hot path: decode (statelessly, unless a binary packet was ever seen), route.
    const result =
      this.#decoder === undefined && typeof data === "string" && !isBinaryHeader(data)
        ? decodeSocketPacket(data, this.#server.decoderLimits)
        : this.statefulDecoder().add(data);
    if (!result.ok) {
      this.#server.log(`closing ${this.conn.id}: ${result.error.code} ${result.error.message}`);
      for (const socket of this.all()) socket.onError(result.error);
      this.closeEngine("parse error", result.error);
      return;
    }
    if (result.value !== undefined) this.onPacket(result.value);
  }

  /** The Engine.IO session closed. @internal */
  onClose(reason: string, description?: unknown): void {
    if (reason === "slow consumer" || reason === "rate limit exceeded") {
      const detail = description instanceof Error ? `: ${description.message}` : "";
      this.#server.log(`closing ${this.conn.id}: ${reason}${detail}`);
    }
    this.shutdown(
      (ENGINE_REASONS.has(reason) ? reason : "transport close") as DisconnectReason,
      description,
    );
  }

  /** Closes a connection that joined no namespace within `connectTimeout`. @internal */
  onConnectTimeout(): void {
    if (this.#main !== undefined || (this.#others?.size ?? 0) > 0) return;
    this.#server.log(`closing ${this.conn.id}: no namespace joined within connectTimeout`);
    this.closeEngine("forced server close");
  }

  // Memory per connection: helpers are `private` methods, not `#` ones (a class with `#`
  // methods stores a brand in each instance); the state stays in `#` fields.
  private statefulDecoder(): SocketPacketDecoder {
    this.#decoder ??= new SocketPacketDecoder(this.#server.decoderLimits);
    return this.#decoder;
  }

  private socketFor(nsp: string): NamespaceSocket | undefined {
    const main = this.#main;
    if (main !== undefined && main.nsp.name === nsp) return main;
    return this.#others?.get(nsp);
  }

  private all(): NamespaceSocket[] {
    const all = this.#others === undefined ? [] : [...this.#others.values()];
    if (this.#main !== undefined) all.unshift(this.#main);
    return all;
  }

  private onPacket(packet: SocketPacket): void {
    const socket = this.socketFor(packet.nsp);
    if (packet.type === SocketPacketType.CONNECT) {
      if (socket === undefined) this.connect(packet.nsp, packet.data);
      else this.protocolViolation(`duplicate CONNECT for namespace ${packet.nsp}`);
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

  /** Takes a socket its namespace admitted. @internal */
  attach(socket: NamespaceSocket): void {
    const name = socket.nsp.name;
    if (this.#main === undefined && this.#others?.has(name) !== true) this.#main = socket;
    else {
      this.#others ??= new Map();
      this.#others.set(name, socket);
    }
    this.#server.connectDeadlines.delete(this);
  }

  /**
   * Joins the namespace the client named in its handshake URL (`sb_connect`), as its CONNECT
   * packet without auth would. @internal
   */
  connectInHandshake(name: string): void {
    this.connect(name, undefined);
    // Time per handshake: the deadline is only armed when the join did not complete at once
    // (asynchronous middleware, a dynamic namespace, a refusal), not armed and then cancelled.
    if (this.#main === undefined && this.#others === undefined && !this.#closed) {
      this.#server.connectDeadlines.add(this);
    }
  }

  private connect(name: string, auth: unknown): void {
    // hot path: an existing namespace is joined without a callback.
    const nsp = this.#server.findNamespace(name);
    if (nsp !== undefined) {
      nsp.addClient(this, auth); // a packet arrives only while the session is open
      return;
    }
    this.#server.resolveNamespace(name, auth, (found) => {
      if (this.conn.readyState !== "open") return;
      if (found !== undefined) {
        found.addClient(this, auth);
        return;
      }
      this.writePacket(
        { type: SocketPacketType.CONNECT_ERROR, nsp: name, data: { message: "Invalid namespace" } },
        {},
      );
    });
  }

  private protocolViolation(message: string): void {
    this.#server.log(`closing ${this.conn.id}: ${message}`);
    this.closeEngine("parse error");
  }

  private closeEngine(reason: DisconnectReason, description?: unknown): void {
    // Sockets learn our reason first; the engine's own "forced close" that follows is ignored.
    this.shutdown(reason, description);
    if (this.conn.readyState === "open" || this.conn.readyState === "opening") this.conn.close();
  }

  private shutdown(reason: DisconnectReason, description?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.setHandler(null);
    this.#server.connectDeadlines.delete(this);
    this.#decoder?.reset();
    const sockets = this.all();
    this.#main = undefined;
    this.#others = undefined;
    for (const socket of sockets) socket.onClose(reason, description);
  }
}

/** Whether a text packet is a BINARY_EVENT (5) or BINARY_ACK (6) header. */
function isBinaryHeader(text: string): boolean {
  const type = text.charCodeAt(0);
  return type === 0x35 || type === 0x36;
}
