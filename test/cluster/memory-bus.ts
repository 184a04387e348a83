/**
 * An in-process broker for cluster adapters: what the adapter suite runs as "memory". It
 * delivers MessagePack-encoded messages asynchronously, like a real broker, and can be
 * stopped and started to play a broker outage, or cut one node off to play its death.
 */
import type { AdapterConstructor, NamespacePort } from "../../src/adapter/adapter.js";
import { ClusterAdapter, type ClusterAdapterOptions } from "../../src/adapter/cluster-adapter.js";
import {
  type ClusterMessage,
  type ClusterResponse,
  encodeClusterMessage,
} from "../../src/adapter/cluster-message.js";

/** Every adapter attached to one bus sees every message of its namespace. */
export class MemoryBus {
  readonly #members = new Set<MemoryClusterAdapter>();
  #isUp = true;
  /** The type of every message published (not responses), in order. */
  readonly publishedTypes: number[] = [];

  /** Whether the bus delivers messages. */
  get isUp(): boolean {
    return this.#isUp;
  }

  /** The `adapter` server option for one node on this bus. */
  adapter(opts: ClusterAdapterOptions = {}): AdapterConstructor {
    return (port) => new MemoryClusterAdapter(port, this, opts);
  }

  /** Plays a broker outage: every node loses its connection. */
  stop(): void {
    this.#isUp = false;
    for (const member of this.#members) member.connectionChanged();
  }

  /** Ends the outage: every attached node reconnects. */
  start(): void {
    this.#isUp = true;
    for (const member of this.#members) member.connectionChanged();
  }

  /** @internal */
  join(member: MemoryClusterAdapter): void {
    this.#members.add(member);
  }

  /** @internal */
  leave(member: MemoryClusterAdapter): void {
    this.#members.delete(member);
  }

  /** @internal Delivers to every member (or one node), on a later turn of the event loop. */
  deliver(bytes: Uint8Array, toUid?: string): void {
    const targets = [...this.#members].filter((m) => toUid === undefined || m.uid === toUid);
    setImmediate(() => {
      if (!this.#isUp) return;
      for (const member of targets) if (this.#members.has(member)) member.receive(bytes);
    });
  }
}

/** A cluster adapter over a {@link MemoryBus}. */
export class MemoryClusterAdapter extends ClusterAdapter {
  readonly #bus: MemoryBus;
  #isCut = false;

  constructor(port: NamespacePort, bus: MemoryBus, opts: ClusterAdapterOptions) {
    super(port, opts);
    this.#bus = bus;
  }

  /** Cuts this node off the bus without a goodbye, as if its process died. */
  cut(): void {
    this.#isCut = true;
    this.#bus.leave(this);
  }

  receive(bytes: Uint8Array): void {
    this.onEncodedMessage(bytes);
  }

  connectionChanged(): void {
    this.checkConnection();
  }

  protected override doPublish(message: ClusterMessage): Promise<void> {
    this.#bus.publishedTypes.push(message.type);
    this.#bus.deliver(encodeClusterMessage(message));
    return Promise.resolve();
  }

  protected override doPublishResponse(uid: string, message: ClusterResponse): Promise<void> {
    this.#bus.deliver(encodeClusterMessage(message), uid);
    return Promise.resolve();
  }

  protected override subscribe(): Promise<void> {
    if (!this.#isCut) this.#bus.join(this);
    return Promise.resolve();
  }

  protected override unsubscribe(): Promise<void> {
    this.#bus.leave(this);
    return Promise.resolve();
  }

  protected override isConnected(): boolean {
    return this.#bus.isUp && !this.#isCut;
  }
}
