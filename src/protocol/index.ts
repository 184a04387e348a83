/**
 * Switchboard's wire protocol: pure codecs shared by the server and the client.
 *
 * Bytes arrive on a transport as Engine.IO v4 packets (`engine-packet.ts`): one packet per
 * WebSocket frame, or several joined by `\x1e` in an HTTP long-polling payload, where binary
 * travels as base64 behind a `b` (`base64.ts`). Each Engine.IO `message` carries one piece
 * of a Socket.IO v5 packet (`socket-packet.ts`): a text header such as `2/chat,7["msg",1]`,
 * followed, for binary packets, by one message per attachment. `SocketPacketDecoder` puts
 * those pieces back together per connection; `encodeSocketPacket` splits a packet into them,
 * swapping binaries for placeholders (`binary.ts`). Untrusted JSON is depth-checked before it
 * is parsed (`json.ts`).
 *
 * Nothing here does I/O, keeps hidden state, or needs Node: the same code runs in browsers,
 * workers and Node. Decoders never throw on network input; they return a `Result` whose
 * error is a `ProtocolError` with a stable `code`, and the caller decides to close.
 */
export { decodeBase64, encodeBase64 } from "./base64.js";
export {
  type BinaryData,
  type DeconstructedData,
  deconstructData,
  hasBinary,
  isBinary,
  type Placeholder,
  reconstructData,
} from "./binary.js";
export {
  decodePacket,
  decodePayload,
  type EnginePacket,
  type EnginePacketKind,
  EnginePacketType,
  encodePacket,
  encodePacketAsText,
  encodePayload,
  type RawData,
  RECORD_SEPARATOR,
} from "./engine-packet.js";
export { decodeJson, exceedsJsonDepth } from "./json.js";
export {
  decodeSocketPacket,
  encodeSocketPacket,
  MAX_ACK_ID,
  RESERVED_EVENTS,
  type SocketDecoderLimits,
  type SocketPacket,
  SocketPacketDecoder,
  SocketPacketType,
  type SocketPacketTypeValue,
} from "./socket-packet.js";
