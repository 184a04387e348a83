/**
 * What every session of one {@link EngineServer} shares: settings, the heartbeat queues, the
 * write-coalescing queue, the metrics, and the frames of the broadcast being sent. One object
 * per server, so a session holds one reference instead of a dozen fields.
 */
import type { RawData } from "../protocol/engine-packet.js";
import type { EngineSocket } from "./engine-socket.js";
import { FlushQueue } from "./flush-queue.js";
import type { Heartbeat } from "./heartbeat.js";
import type { PreEncodedFrame } from "./transports/transport.js";

/** Counters of an {@link EngineServer}, readable as `engine.metrics`. */
export interface EngineMetrics {
  /** Sessions closed with `"slow consumer"`: their outgoing buffer stayed over its bound. */
  slowConsumerDisconnects: number;
  /** Volatile packets dropped because their session's buffer was over its bound. */
  droppedVolatilePackets: number;
}

/** Settings a session reads. */
export interface SessionSettings {
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly maxPayload: number;
  readonly upgradeTimeout: number;
  readonly maxBufferedBytes: number;
  readonly maxBufferedPackets: number;
}

type FrameEncoder = (data: RawData) => PreEncodedFrame;

/** The state shared by every session of one server. */
export class SessionContext {
  readonly settings: SessionSettings;
  readonly heartbeat: Heartbeat;
  readonly flushQueue = new FlushQueue();
  readonly metrics: EngineMetrics = { slowConsumerDisconnects: 0, droppedVolatilePackets: 0 };
  readonly #onClosed: (socket: EngineSocket) => void;
  // A one-entry cache: a broadcast hands the same array to each of its sessions in a row.
  #sharedParts: readonly RawData[] | undefined;
  #sharedEncoder: FrameEncoder | undefined;
  #sharedFrames: readonly PreEncodedFrame[] = [];
  #sharedBytes = 0;

  constructor(
    settings: SessionSettings,
    heartbeat: Heartbeat,
    onClosed: (socket: EngineSocket) => void,
  ) {
    this.settings = settings;
    this.heartbeat = heartbeat;
    this.#onClosed = onClosed;
  }

  /** Reports a closed session to its server. */
  closed(socket: EngineSocket): void {
    this.#onClosed(socket);
  }

  /**
   * The frames of `parts` made by `encoder`: built on the first call for this very array,
   * then returned as they are for every other session of the broadcast.
   */
  framesFor(parts: readonly RawData[], encoder: FrameEncoder): readonly PreEncodedFrame[] {
    // hot path: one identity check per delivery.
    if (parts === this.#sharedParts && encoder === this.#sharedEncoder) return this.#sharedFrames;
    const frames = parts.map(encoder);
    let bytes = 0;
    for (const frame of frames) bytes += frame.bytes.byteLength;
    this.#sharedParts = parts;
    this.#sharedEncoder = encoder;
    this.#sharedFrames = frames;
    this.#sharedBytes = bytes;
    return frames;
  }

  /** The total size of the frames last returned by {@link SessionContext.framesFor}. */
  get sharedBytes(): number {
    return this.#sharedBytes;
  }
}
