/**
 * What every session of one {@link EngineServer} shares: settings, the heartbeat queues, the
 * upgrades under way, the metrics, and the frames of the broadcast being sent (writes are
 * coalesced by the process's queue, PROCESS_FLUSH_QUEUE in flush-queue.ts). One object per
 * server, so a session holds one reference instead of a dozen fields.
 */
import type { RawData } from "../protocol/engine-packet.js";
import type { EngineSocket } from "./engine-socket.js";
import type { Heartbeat } from "./heartbeat.js";
import type { PreEncodedFrame, TransportName } from "./transports/transport.js";
import type { TransportUpgrade } from "./upgrade.js";

/** Counters of an {@link EngineServer}, readable as `engine.metrics`. */
export interface EngineMetrics {
  /** Sessions closed with `"slow consumer"`: their outgoing buffer stayed over its bound. */
  slowConsumerDisconnects: number;
  /** Volatile packets dropped because their session's buffer was over its bound. */
  droppedVolatilePackets: number;
  /** Sessions closed with `"rate limit exceeded"`. */
  rateLimitDisconnects: number;
  /** Client messages dropped by the rate limit (`onExceeded: "drop"`). */
  droppedRateLimitedMessages: number;
}

/** Settings a session reads. */
export interface SessionSettings {
  readonly pingInterval: number;
  readonly pingTimeout: number;
  readonly maxPayload: number;
  readonly upgradeTimeout: number;
  readonly maxBufferedBytes: number;
  readonly maxBufferedPackets: number;
  /** Messages per rate window (0: no limit), the window in ms, and whether to drop. */
  readonly rateMessages: number;
  readonly rateInterval: number;
  readonly rateDrops: boolean;
}

type FrameEncoder = (data: RawData) => PreEncodedFrame;

/** The state shared by every session of one server. */
export class SessionContext {
  readonly settings: SessionSettings;
  readonly heartbeat: Heartbeat;
  /**
   * The polling -> WebSocket upgrades under way, by session. Memory per idle session: a
   * session holds a flag, not a field for an attempt it rarely has.
   */
  readonly upgrades = new Map<EngineSocket, TransportUpgrade>();
  readonly metrics: EngineMetrics = {
    slowConsumerDisconnects: 0,
    droppedVolatilePackets: 0,
    rateLimitDisconnects: 0,
    droppedRateLimitedMessages: 0,
  };
  /** When the rate windows are counted from. */
  readonly #rateEpoch = Date.now();
  readonly #onClosed: (socket: EngineSocket) => void;
  // A one-entry cache: a broadcast hands the same array to each of its sessions in a row.
  #sharedParts: readonly RawData[] | undefined;
  #sharedEncoder: FrameEncoder | undefined;
  #sharedFrames: readonly PreEncodedFrame[] = [];
  #sharedBytes = 0;
  // The open packet after its sid, for the upgrades list last asked for.
  #openUpgrades: readonly TransportName[] | undefined;
  #openTail = "";
  // The last frozen extra fields of an open packet, and their JSON.
  #openExtra: Readonly<Record<string, unknown>> | undefined;
  #openMembers = "";

  constructor(
    settings: SessionSettings,
    heartbeat: Heartbeat,
    onClosed: (socket: EngineSocket) => void,
  ) {
    this.settings = settings;
    this.heartbeat = heartbeat;
    this.#onClosed = onClosed;
  }

  /** The current rate-limit window's number (a small integer, one per `rateInterval`). */
  rateWindow(): number {
    return Math.floor((Date.now() - this.#rateEpoch) / this.settings.rateInterval);
  }

  /**
   * The data of the open packet of session `sid` (engine.io-protocol v4 §handshake):
   * `{"sid":…,"upgrades":[…],"pingInterval":…,"pingTimeout":…,"maxPayload":…}`, then the
   * members of `extra` (see `openPacketFields`), if any.
   * hot path: once per handshake; the part after the sid is built once per upgrades list.
   */
  openPacketData(
    sid: string,
    upgrades: readonly TransportName[],
    extra?: Record<string, unknown>,
  ): string {
    if (upgrades !== this.#openUpgrades) {
      const { pingInterval, pingTimeout, maxPayload } = this.settings;
      const tail = JSON.stringify({ upgrades, pingInterval, pingTimeout, maxPayload });
      this.#openUpgrades = upgrades;
      this.#openTail = tail.slice(1);
    }
    const data = `{"sid":${JSON.stringify(sid)},${this.#openTail}`;
    if (extra === undefined) return data;
    // The same object for many sessions in a row (the Socket.IO layer shares one per
    // namespace joined in the handshake): its JSON is kept, for a frozen object of
    // primitive values only, as any other may change between two handshakes.
    let members: string;
    if (extra === this.#openExtra) members = this.#openMembers;
    else {
      members = JSON.stringify(extra);
      this.#openExtra = isConstant(extra) ? extra : undefined;
      this.#openMembers = members;
    }
    return members === "{}" ? data : `${data.slice(0, -1)},${members.slice(1)}`;
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

/** Whether `fields` cannot change: frozen, its own values plain data and no object. */
function isConstant(fields: Readonly<Record<string, unknown>>): boolean {
  if (!Object.isFrozen(fields)) return false;
  const own = Object.getOwnPropertyDescriptors(fields);
  for (const key in own) {
    const { value, get } = own[key]!;
    if (get !== undefined || (typeof value === "object" && value !== null)) return false;
  }
  return true;
}
