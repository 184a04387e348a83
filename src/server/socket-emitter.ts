/**
 * `SocketEmitter`: what `socket.timeout()`, `socket.volatile` and `socket.compress()` return,
 * an immutable set of flags for emits to one socket, and the promise behind `emitWithAck`.
 */
import type {
  AckResult,
  ArgsWithoutAck,
  DefaultEventsMap,
  EventNames,
  EventParams,
  EventsMap,
} from "./typed-events.js";

/** Flags for one emit to one socket. */
export interface SocketEmitFlags {
  readonly volatile?: boolean;
  readonly compress?: boolean;
  readonly timeout?: number;
}

/** What a {@link SocketEmitter} emits through: the socket. */
interface FlaggedEmitTarget {
  emitWithFlags(flags: SocketEmitFlags, ev: string, args: readonly unknown[]): boolean;
}

/**
 * The result of `socket.timeout()`, `socket.volatile` and `socket.compress()`: emits to one
 * socket with flags. Immutable; each flag call returns a new emitter.
 */
export class SocketEmitter<EmitEvents extends EventsMap<EmitEvents> = DefaultEventsMap> {
  readonly #socket: FlaggedEmitTarget;
  readonly #flags: SocketEmitFlags;

  constructor(socket: FlaggedEmitTarget, flags: SocketEmitFlags) {
    this.#socket = socket;
    this.#flags = flags;
  }

  /** @see Socket.emit */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#socket.emitWithFlags(this.#flags, ev, args);
  }

  /** @see Socket.emitWithAck */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: ArgsWithoutAck<EmitEvents, Ev>
  ): Promise<AckResult<EmitEvents, Ev>> {
    return emitWithAckVia(this.#socket, this.#flags, ev, args);
  }

  /** @see Socket.timeout */
  timeout(ms: number): SocketEmitter<EmitEvents> {
    return new SocketEmitter(this.#socket, { ...this.#flags, timeout: ms });
  }

  /** @see Socket.volatile */
  get volatile(): SocketEmitter<EmitEvents> {
    return new SocketEmitter(this.#socket, { ...this.#flags, volatile: true });
  }

  /** @see Socket.compress */
  compress(compress: boolean): SocketEmitter<EmitEvents> {
    return new SocketEmitter(this.#socket, { ...this.#flags, compress });
  }
}

/** Emits `ev` with an ack that settles the returned promise (with `flags.timeout`: an error first). */
export function emitWithAckVia<T>(
  socket: FlaggedEmitTarget,
  flags: SocketEmitFlags,
  ev: string,
  args: readonly unknown[],
): Promise<T> {
  return new Promise((resolve, reject) => {
    const ack =
      flags.timeout === undefined
        ? (value: unknown) => resolve(value as T)
        : (err: Error | null, value: unknown) => (err === null ? resolve(value as T) : reject(err));
    socket.emitWithFlags(flags, ev, [...args, ack]);
  });
}
