/**
 * The polling -> WebSocket upgrade (engine.io-protocol v4 §upgrade), seen from the server.
 *
 * ```
 *  client                         server
 *    │ ws open ?sid=...  ─────────►  TransportUpgrade created, upgradeTimeout armed
 *    │ 2probe            ─────────►  3probe sent on the new transport
 *    │                   ◄─────────  noop on the pending polling GET (client pauses polling)
 *    │ 5 (upgrade)       ─────────►  session switches to WebSocket, buffer flushed there
 * ```
 * Any other packet, the new transport closing, the session closing or the timeout ends the
 * attempt: the new transport is closed and the session carries on over polling.
 */
import type { EnginePacket } from "../protocol/engine-packet.js";
import { createDebug } from "./debug.js";
import type { Transport, TransportListener } from "./transports/transport.js";

const debug = createDebug("switchboard:engine:upgrade");

/** What an upgrade attempt needs from the session it upgrades. */
export interface UpgradeHost {
  /** The client probed the new transport successfully. */
  onUpgradeProbed(transport: Transport): void;
  /** The client committed to the new transport: switch to it. */
  onUpgradeCompleted(transport: Transport): void;
  /** The attempt ended without switching; the new transport is already closed. */
  onUpgradeFailed(transport: Transport, reason: string): void;
}

/** One attempt to move a session onto a new transport. Listens to that transport meanwhile. */
export class TransportUpgrade implements TransportListener {
  readonly #host: UpgradeHost;
  readonly #transport: Transport;
  readonly #timer: ReturnType<typeof setTimeout>;
  #isProbed = false;
  #isDone = false;

  /** Starts listening to `transport`; gives up after `timeout` ms. */
  constructor(host: UpgradeHost, transport: Transport, timeout: number) {
    this.#host = host;
    this.#transport = transport;
    transport.setListener(this);
    this.#timer = setTimeout(() => this.abort("upgrade timeout"), timeout);
  }

  /** Whether the client has probed the new transport (it is now pausing polling). */
  get isProbed(): boolean {
    return this.#isProbed;
  }

  /** Ends the attempt and closes the new transport. */
  abort(reason: string): void {
    if (!this.#end()) return;
    debug("upgrade failed: %s", reason);
    this.#transport.close();
    this.#host.onUpgradeFailed(this.#transport, reason);
  }

  onPacket(packet: EnginePacket): void {
    if (packet.type === "ping" && packet.data === "probe" && !this.#isProbed) {
      this.#isProbed = true;
      this.#transport.send([{ type: "pong", data: "probe" }]);
      this.#host.onUpgradeProbed(this.#transport);
    } else if (packet.type === "upgrade" && this.#isProbed) {
      if (!this.#end()) return;
      this.#host.onUpgradeCompleted(this.#transport);
    } else {
      this.abort(`unexpected "${packet.type}" packet during upgrade`);
    }
  }

  onReady(): void {}

  onDrain(): void {}

  onClose(reason: string): void {
    if (!this.#end()) return;
    debug("new transport closed during upgrade: %s", reason);
    this.#host.onUpgradeFailed(this.#transport, reason);
  }

  #end(): boolean {
    if (this.#isDone) return false;
    this.#isDone = true;
    clearTimeout(this.#timer);
    return true;
  }
}
