/**
 * What a session keeps of its handshake request. The `IncomingMessage` itself (its stream
 * state, raw headers, parser leftovers: about a kilobyte) is let go once the handshake is
 * answered; the headers, URL and peer address are what `socket.handshake` and applications
 * read afterwards.
 */
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import {
  type HeaderValue,
  headerLayout,
  headersObject,
  keptNames,
  keptValues,
  laidOutValues,
  shareAddress,
  shareUrl,
} from "./session-headers.js";

/** The peer of a handshake, shaped like the `socket` of an `IncomingMessage`. */
export interface EngineRequestPeer {
  readonly remoteAddress: string;
  readonly encrypted: boolean;
}

/**
 * A snapshot of the handshake request of a session: `engineSocket.request` and, in the
 * Socket.IO layer, `socket.request`. The common fields of an `IncomingMessage` are here
 * under the same names (`method`, `url`, `headers`, `socket.remoteAddress`).
 */
export class EngineRequest {
  /** The request URL, path and query. */
  readonly url: string;
  /** The client's IP address, as seen on the handshake connection. */
  readonly remoteAddress: string;
  /** Whether the handshake came over TLS. */
  readonly secure: boolean;
  // Memory per idle session: the names and values of the headers (see keptNames) until
  // `headers` is first read, then the names are undefined and the values the object.
  #names: readonly string[] | undefined;
  #headers: HeaderValue[] | IncomingHttpHeaders;

  /** Takes what is kept from `req`; `req` is not referenced afterwards. */
  constructor(req: IncomingMessage) {
    this.url = shareUrl(req.url ?? "/");
    const layout = headerLayout(req.rawHeaders);
    if (layout !== undefined) {
      this.#names = layout.names;
      this.#headers = laidOutValues(req.rawHeaders, layout);
    } else {
      const names = keptNames(req.headers);
      this.#names = names;
      this.#headers = keptValues(req.headers, names);
    }
    this.remoteAddress = shareAddress(peerAddress(req.socket));
    this.secure = (req.socket as { encrypted?: unknown }).encrypted === true;
  }

  /**
   * The HTTP method: `GET`, as for every handshake (the engine refuses any other, and a
   * WebSocket upgrade is a GET). Not stored: one field less per session.
   */
  get method(): string {
    return "GET";
  }

  /**
   * The request headers, as Node parsed them, without `Sec-WebSocket-Key` (of no use after
   * the handshake). Built on first read; the same object afterwards.
   */
  get headers(): IncomingHttpHeaders {
    const names = this.#names;
    if (names === undefined) return this.#headers as IncomingHttpHeaders;
    const headers = headersObject(names, this.#headers as HeaderValue[]);
    this.#names = undefined;
    this.#headers = headers;
    return headers;
  }

  /** The peer, as `IncomingMessage#socket` would describe it. */
  get socket(): EngineRequestPeer {
    return { remoteAddress: this.remoteAddress, encrypted: this.secure };
  }

  /** @see EngineRequest.socket */
  get connection(): EngineRequestPeer {
    return this.socket;
  }
}

/** The parts of a `net.Socket` {@link peerAddress} reads (Node's, not in its types). */
interface PeerSocket {
  readonly remoteAddress?: string | undefined;
  readonly connecting?: boolean;
  readonly _handle?: { getpeername?(out: { address?: unknown }): number } | null;
}

/**
 * The client's address on `socket`. Memory per idle session: `socket.remoteAddress` caches
 * an `{ address, family, port }` object on the socket (56 bytes, and one more property) for
 * the life of the connection, although the session keeps the address itself; asking the
 * socket's handle, as `remoteAddress` does, leaves nothing behind. Sockets without such a
 * handle (TLS, a forwarded poll's stand-in) are asked their `remoteAddress`.
 */
function peerAddress(socket: PeerSocket): string {
  const handle = socket._handle;
  if (typeof handle?.getpeername === "function" && socket.connecting !== true) {
    const out: { address?: unknown } = {};
    if (handle.getpeername(out) === 0 && typeof out.address === "string") return out.address;
  }
  return socket.remoteAddress ?? "";
}
