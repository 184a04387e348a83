/**
 * The small interface between the client's `Engine` and its transports. A transport is
 * made by a factory from a {@link TransportSink} (how it reports back) and the options. The
 * set of factories an entry point offers is its {@link TransportRegistry}: the full client
 * registers `polling` and `websocket`, the WebSocket-only entry only `websocket`, so
 * bundlers leave the polling code out.
 *
 * Packets travel between engine and transport as WebSocket frames do
 * (engine.io-protocol v4 §websocket): a string is one packet, its type digit first
 * (`"2"` ping, `"4hello"` message); bytes (or a Blob) are one binary `message`. Polling joins
 * them into payloads itself.
 */
import type { RawData } from "../protocol/engine-packet.js";
import type { NodeConnectOptions } from "./node-options.js";

/**
 * An outgoing packet: text, bytes, or a `Blob` attachment (a WebSocket sends it as it is,
 * in order; polling reads it before encoding).
 */
export type Frame = RawData | Blob;

/** How a transport reports to the engine that owns it. */
export interface TransportSink {
  /** The URL for transport `name`'s next connection or request (Engine.IO query and `sid`). */
  url(name: string): string;
  /** The transport is connected (WebSocket `open`); used while probing an upgrade. */
  open?(): void;
  /** One Engine.IO packet arrived. */
  frame(frame: RawData): void;
  /** The transport closed: with an error when it failed, without one when the peer closed it. */
  close(err?: Error): void;
}

/** Options every transport reads. */
export interface TransportOptions extends NodeConnectOptions {
  /**
   * Transports in order of preference; the first available opens the session. Default: all
   * the entry offers, polling first (`["polling", "websocket"]`).
   */
  transports?: string[];
  /** Upgrade from polling to WebSocket when the server offers it. Default true. */
  upgrade?: boolean;
  /** Extra HTTP headers for each request (Node only: browsers do not allow setting them). */
  extraHeaders?: Record<string, string>;
  /** Send cookies on cross-origin requests (polling `credentials: "include"`). */
  withCredentials?: boolean;
}

/** A live transport. */
export interface Transport {
  /** `"polling"` or `"websocket"`, as in the Engine.IO query. */
  name: string;
  /** Writes packets in order (queued by the transport while a previous write is in flight). */
  send(frames: Frame[]): void;
  /** Closes after queued packets are written, without reporting back. */
  close(): void;
}

/** Makes a transport. */
export type TransportFactory = (sink: TransportSink, opts: TransportOptions) => Transport;

/**
 * Whether this runs in Node (or a runtime that says it is Node): transports then use Node's
 * own modules (`node:net`, `node:tls`, `node:http`). `versions` too is optional: bundlers'
 * `process` polyfills may lack it. Always false in our browser bundles, which define `globalThis.process` as
 * undefined (`scripts/build-client.mjs`): what runs only `if (isNode)` is left out of them.
 */
export const isNode = !!globalThis.process?.versions?.node;

/** Transport factories by name. */
export type TransportRegistry = Readonly<Record<string, TransportFactory>>;
