/**
 * Bare-WebSocket mode: a plain `new WebSocket(url)` talks to the server with the small JSON
 * envelope of `protocol/bare-envelope.ts`, and reaches the same namespaces, middleware,
 * rooms and handlers as a Socket.IO client. This transport sits under an ordinary engine
 * session and translates at the edge, so nothing above it knows the difference:
 *
 * ```
 *  {"event":"chat","args":["hi"]} ─► 2["chat","hi"] ─► engine session ─► Client ─► Socket
 *  {"event":"chat","args":["hi"]} ◄─ 2["chat","hi","<offset>"] ◄─ encode once, broadcast
 * ```
 *
 * - Heartbeat: the session's pings go out as WebSocket ping frames, pong frames come back
 *   as pongs (browsers answer pings by themselves).
 * - Namespaces: the one named by `?nsp=` (default `/`) is joined when the socket opens;
 *   others with `{"connect": nsp, "auth": {...}}`, or by sending an event to them (joined
 *   with no auth first; the event waits until the join is answered, bounded).
 * - Malformed input: an `{"error": ...}` frame, then the connection closes with code 1007
 *   (the session ends with `"parse error"`), as for any client. Binary frames are refused:
 *   binary values travel as `{"$binary": base64}`.
 */
import { Buffer } from "node:buffer";
import type { WebSocket } from "ws";
import {
  IGNORING_LISTENER,
  type OutgoingPacket,
  type Transport,
  type TransportListener,
} from "../engine/index.js";
import { ErrorCode, ProtocolError } from "../errors.js";
import { decodeBareFrame, encodeBareError, encodeBareFrame } from "../protocol/bare-envelope.js";
import type { RawData } from "../protocol/engine-packet.js";
import {
  encodeSocketPacket,
  type SocketPacket,
  SocketPacketDecoder,
  SocketPacketType,
} from "../protocol/socket-packet.js";

/** Most packets a client may send to namespaces whose join is not answered yet. */
const MAX_WAITING = 100;
const OPEN = 1;
/** RFC 6455 §7.4.1: data inconsistent with the message type. */
const CLOSE_INVALID_DATA = 1007;

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The engine transport of one bare-WebSocket connection. */
export class BareWebSocketTransport implements Transport {
  readonly name = "websocket" as const;
  /** Broadcast frames cannot be shared: each is translated for this connection. */
  readonly frameEncoder = null;
  readonly #ws: WebSocket;
  readonly #maxDepth: number;
  #listener: TransportListener = IGNORING_LISTENER;
  /** Reads the server's own packets (binary ones span several messages). */
  readonly #outgoing = new SocketPacketDecoder({ maxAttachments: Number.MAX_SAFE_INTEGER });
  /** Joined namespaces; true when their events carry recovery offsets. */
  readonly #joined = new Map<string, boolean>();
  /** Namespaces asked to join, with the client's packets waiting for the answer. */
  readonly #joining = new Map<string, SocketPacket[]>();
  #waiting = 0;
  #isClosed = false;

  constructor(ws: WebSocket, maxDepth: number) {
    this.#ws = ws;
    this.#maxDepth = maxDepth;
    ws.on("message", (data: Buffer, isBinary: boolean) => this.#receive(data, isBinary));
    ws.on("pong", () => this.#listener.onPacket({ type: "pong" }));
    ws.on("error", (err) => this.#closed("transport error", err));
    ws.on("close", () => this.#closed("transport close"));
  }

  get writable(): boolean {
    return this.#ws.readyState === OPEN;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  setListener(listener: TransportListener): void {
    this.#listener = listener;
  }

  /** Joins namespace `nsp` for the client, as if it had sent `{"connect": nsp}`. */
  join(nsp: string): void {
    this.#forward({ type: SocketPacketType.CONNECT, nsp });
  }

  send(packets: readonly OutgoingPacket[]): void {
    for (const packet of packets) {
      switch (packet.type) {
        case "message":
          this.sendMessage(packet.data ?? "", packet.compress !== false, packet.callback);
          break;
        case "ping":
          if (this.writable) this.#ws.ping();
          packet.callback?.();
          break;
        case "close":
          this.#ws.close(1000);
          break;
        default:
          packet.callback?.(); // open, noop: nothing for a bare client
      }
    }
  }

  sendMessage(data: RawData, compress: boolean, callback?: () => void): void {
    const chunk = typeof data === "string" || Buffer.isBuffer(data) ? data : toBuffer(data);
    const decoded = this.#outgoing.add(chunk);
    if (!decoded.ok || decoded.value === undefined) {
      callback?.(); // an attachment still to come (or our own packet unreadable: dropped)
      return;
    }
    const packet = decoded.value;
    this.#track(packet);
    if (!this.writable) {
      callback?.();
      return;
    }
    const offsets = this.#joined.get(packet.nsp) === true;
    this.#ws.send(encodeBareFrame(packet, offsets), { compress }, () => callback?.());
  }

  close(onClosed?: () => void): void {
    if (this.#isClosed || this.#ws.readyState > OPEN) {
      onClosed?.();
      return;
    }
    this.#listener = IGNORING_LISTENER;
    if (onClosed !== undefined) this.#ws.once("close", onClosed);
    this.#ws.close(1000);
  }

  terminate(): void {
    this.#listener = IGNORING_LISTENER;
    this.#ws.terminate();
  }

  discard(): void {}

  /** Keeps the namespace bookkeeping in step with the server's answers. */
  #track(packet: SocketPacket): void {
    const nsp = packet.nsp;
    if (packet.type === SocketPacketType.CONNECT) {
      const pid = (packet.data as { pid?: unknown } | undefined)?.pid;
      this.#joined.set(nsp, typeof pid === "string");
      this.#release(nsp, true);
    } else if (packet.type === SocketPacketType.CONNECT_ERROR) {
      this.#release(nsp, false);
    } else if (packet.type === SocketPacketType.DISCONNECT) {
      this.#joined.delete(nsp);
    }
  }

  /** The join of `nsp` was answered: its waiting packets go on (or are dropped). */
  #release(nsp: string, isJoined: boolean): void {
    const waiting = this.#joining.get(nsp);
    if (waiting === undefined) return;
    const done = (): void => {
      this.#joining.delete(nsp);
      this.#waiting -= waiting.length;
    };
    if (!isJoined) {
      done();
      return;
    }
    // Not from inside the session's send (a join can be answered in the very turn it was
    // asked, before the socket's listeners are attached): the packets go on once it
    // returned. Until then the namespace stays "joining", so that packets the client sent
    // meanwhile queue behind them instead of overtaking them.
    queueMicrotask(() => {
      done();
      for (const packet of waiting) this.#forward(packet);
    });
  }

  #receive(data: Buffer, isBinary: boolean): void {
    if (this.#isClosed) return;
    if (isBinary) {
      this.#refuse(
        new ProtocolError(
          ErrorCode.INVALID_PACKET,
          'binary frames are not accepted in bare mode: send binary values as {"$binary": base64}',
        ),
      );
      return;
    }
    const decoded = decodeBareFrame(data.toString("utf8"), this.#maxDepth, toBuffer);
    if (!decoded.ok) {
      this.#refuse(decoded.error);
      return;
    }
    const packet = decoded.value;
    const nsp = packet.nsp;
    if (packet.type === SocketPacketType.CONNECT || packet.type === SocketPacketType.DISCONNECT) {
      if (packet.type === SocketPacketType.DISCONNECT) this.#joined.delete(nsp);
      this.#forward(packet);
      return;
    }
    if (this.#joined.has(nsp) && !this.#joining.has(nsp)) {
      this.#forward(packet);
      return;
    }
    if (this.#waiting >= MAX_WAITING) {
      this.#refuse(
        new ProtocolError(
          ErrorCode.TOO_MANY_PACKETS,
          `more than ${MAX_WAITING} packets wait for namespace joins`,
        ),
      );
      return;
    }
    const waiting = this.#joining.get(nsp);
    if (waiting !== undefined) {
      waiting.push(packet);
      this.#waiting++;
      return;
    }
    // Queued before the join is asked: the answer may come back within #forward.
    this.#joining.set(nsp, [packet]);
    this.#waiting++;
    this.#forward({ type: SocketPacketType.CONNECT, nsp });
  }

  /** Hands a client packet to the session as the Socket.IO messages it stands for. */
  #forward(packet: SocketPacket): void {
    if (packet.type === SocketPacketType.CONNECT && !this.#joining.has(packet.nsp)) {
      this.#joining.set(packet.nsp, []);
    }
    for (const part of encodeSocketPacket(packet)) {
      this.#listener.onPacket({ type: "message", data: part });
    }
  }

  /** Bad input: say what was wrong, then close (the session ends with "parse error"). */
  #refuse(error: ProtocolError): void {
    const listener = this.#listener;
    this.#listener = IGNORING_LISTENER;
    this.#isClosed = true;
    if (this.writable) {
      this.#ws.send(encodeBareError(error));
      this.#ws.close(CLOSE_INVALID_DATA, error.message.slice(0, 120));
    }
    listener.onClose("parse error", error);
  }

  #closed(reason: "transport close" | "transport error", err?: Error): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    const listener = this.#listener;
    this.#listener = IGNORING_LISTENER;
    listener.onClose(reason, err);
  }
}
