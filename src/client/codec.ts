/**
 * The client's compact Socket.IO v5 packet codec, binary attachments included
 * (socket.io-protocol v5 §packet-encoding).
 *
 * Why not `src/protocol/socket-packet.ts`: that codec is built for the server, facing
 * hostile input with detailed, stable errors, and with the Engine.IO codec it weighs more
 * (4 KB gzipped) than the whole WebSocket-only client may (`scripts/build-client.mjs`). This
 * one keeps the wire format, the packet types and numbers (from `src/protocol`), returns the
 * `ProtocolError` instead of throwing on input (no `Result` wrapper: bytes), and
 * `codec.test.ts` checks it against the protocol codec packet by packet. A server we chose to connect to is trusted more than
 * the server trusts its clients: we check what the client relies on, not every shape.
 */
import { ProtocolError } from "../errors.js";
import type { RawData } from "../protocol/engine-packet.js";
import type { SocketPacket } from "../protocol/socket-packet.js";
import type { Frame } from "./transport.js";
import { ACK, CONNECT_ERROR, EVENT, MESSAGE, RESERVED } from "./wire.js";

type Binary = ArrayBuffer | ArrayBufferView | Blob;
type Mutable = { -readonly [K in keyof SocketPacket]: SocketPacket[K] };

/**
 * Encodes a packet as the Engine.IO messages that carry it: a text `message` (`4`, then the
 * Socket.IO header and JSON), then one binary message per attachment, replaced in the JSON
 * by `{"_placeholder":true,"num":N}` (EVENT and ACK then become BINARY_EVENT and
 * BINARY_ACK). A `Blob` attachment is passed on as it is.
 */
export function encodeSocketPacket(p: SocketPacket): Frame[] {
  const out: Frame[] = [""];
  // No data (undefined) is no JSON.
  const json = JSON.stringify(strip(p.data, out)) ?? "";
  const n = out.length - 1;
  out[0] = `${MESSAGE}${n ? `${p.type + 3}${n}-` : p.type}${p.nsp === "/" ? "" : `${p.nsp},`}${p.id ?? ""}${json}`;
  return out;
}

const isBinary = (v: unknown): v is Binary =>
  v instanceof Blob || v instanceof ArrayBuffer || ArrayBuffer.isView(v);

/**
 * `v` with each binary in it pushed to `out` and replaced by its placeholder, numbered in
 * the order JSON.stringify visits them; only the arrays and objects above a binary are
 * copied. hot path: `v` itself when it holds no binary. Serialising with a replacer instead
 * would run a Buffer's own `toJSON` (an array of every byte: most of the time of a 1 MB
 * emit) before the replacer saw the Buffer.
 */
function strip(v: unknown, out: Frame[]): unknown {
  if (!hasBinary(v)) return v;
  if (Array.isArray(v)) return v.map((x) => strip(x, out));
  if (isBinary(v)) {
    // An ArrayBuffer has no `buffer`: the view then covers all of it.
    const b = v as Uint8Array;
    out.push(v instanceof Blob ? v : new Uint8Array(b.buffer ?? v, b.byteOffset, b.byteLength));
    return { _placeholder: true, num: out.length - 2 };
  }
  // Own keys, "__proto__" included, copied as data (a spread does not call setters).
  const copy: Record<string, unknown> = { ...(v as object) };
  for (const k in copy) copy[k] = strip(copy[k], out);
  return copy;
}

/** Whether `v` holds binary data anywhere: arrays and objects are searched, not `toJSON`. */
function hasBinary(v: unknown): boolean {
  if (typeof v !== "object" || !v) return false;
  // hot path: arrays by index, several times faster than `for in` on them.
  if (Array.isArray(v)) return v.some(hasBinary);
  if (isBinary(v)) return true;
  for (const k in v) if (hasBinary((v as Record<string, unknown>)[k])) return true;
  return false;
}

// type, attachment count, namespace, ack id, JSON.
const HEADER = /^([0-6])(?:(\d+)-)?(?:(\/[^,]*),?)?(\d*)/;

/** Puts each placeholder's attachment back; throws on a bad index (caught by `add`). */
function fill(v: unknown, bins: Uint8Array[]): unknown {
  if (typeof v !== "object" || !v) return v;
  const o = v as Record<string, unknown>;
  if (o._placeholder === true) {
    const bin = bins[o.num as number];
    if (!bin) throw o.num;
    return bin;
  }
  for (const k in o) o[k] = fill(o[k], bins);
  return o;
}

/**
 * Reassembles Socket.IO packets from one connection's Engine.IO messages, in order. BINARY
 * packets come out as EVENT/ACK with their binaries in place, as socket.io-parser does.
 */
export class SocketPacketDecoder {
  #p: Mutable | undefined;
  #want = 0;
  #bins: Uint8Array[] = [];

  /** A complete packet, `undefined` while attachments are awaited, or the reason to close. */
  add(chunk: RawData): SocketPacket | ProtocolError | undefined {
    let p = this.#p;
    try {
      if (typeof chunk === "string") {
        const m = HEADER.exec(chunk);
        if (!m || p) throw chunk;
        this.#want = +(m[2] ?? 0);
        const type = +m[1]!;
        // BINARY_EVENT/BINARY_ACK (5/6) carry attachments and come out as EVENT/ACK (2/3).
        if (type > CONNECT_ERROR !== this.#want > 0) throw chunk;
        p = { type: this.#want ? type - 3 : type, nsp: m[3] ?? "/" } as Mutable;
        if (m[4]) p.id = +m[4];
        const json = chunk.slice(m[0].length);
        if (json) p.data = JSON.parse(json);
      } else if (p) this.#bins.push(chunk);
      else throw chunk;
      this.#p = p;
      if (this.#bins.length < this.#want) return;
      this.#p = undefined;
      // hot path: #bins is emptied only by a binary packet (or an error), no array per packet.
      if (this.#want) p.data = fill(p.data, this.#bins.splice(0));
      const d = p.data as unknown[];
      if ((p.type === EVENT || p.type === ACK) && !Array.isArray(d)) throw d;
      // A peer may not fire the events both ends reserve (as socket.io-parser refuses them).
      if (p.type === EVENT && RESERVED.test(d[0] as string)) throw d[0];
      return p;
    } catch (err) {
      this.#p = undefined;
      this.#bins = [];
      return new ProtocolError("SB_ERR_INVALID_PACKET", `invalid packet: ${err}`);
    }
  }
}
