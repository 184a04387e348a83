/**
 * Socket.IO v5 packets (socket.io-protocol v5 §packet-format):
 * `<type>[<attachments>-][<nsp>,][<ackId>][json]`, with binary attachments sent as separate
 * Engine.IO messages after the text header and referenced by `{"_placeholder":true,"num":N}`.
 *
 * IMPLEMENTATION PENDING (protocol helper): see the contract below.
 */
import type { ProtocolError, Result } from "../errors.js";
import type { RawData } from "./engine-packet.js";

/** Socket.IO packet types and their wire numbers (socket.io-protocol v5 §packet-types). */
export const SocketPacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

/** A Socket.IO packet type number. */
export type SocketPacketTypeValue = (typeof SocketPacketType)[keyof typeof SocketPacketType];

/** One decoded Socket.IO packet. Binary attachments are already put back in `data`. */
export interface SocketPacket {
  readonly type: SocketPacketTypeValue;
  /** Namespace, `"/"` when absent on the wire. */
  readonly nsp: string;
  /** JSON payload with binaries restored: CONNECT auth object, EVENT/ACK argument array, CONNECT_ERROR object. */
  readonly data?: unknown;
  /** Acknowledgement id, when the packet asks for (EVENT) or answers (ACK) one. */
  readonly id?: number | undefined;
}

/** Limits applied while decoding untrusted packets. */
export interface SocketDecoderLimits {
  /** Most binary attachments one packet may announce. Default 10. */
  readonly maxAttachments?: number;
  /** Deepest nesting of arrays/objects in a payload. Default 32. */
  readonly maxDepth?: number;
}
