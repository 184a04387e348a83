/**
 * A minimal typed event emitter, the base of the client's `Manager` and `Socket`.
 * `L` holds the user's listen events, `R` the reserved ones the class emits itself.
 */
import type { EventNames, EventParams, ListenerOf, ListenNames } from "./typed-events.js";

type Fn = (...args: never[]) => unknown;
// A `once` wrapper remembers the listener it wraps so `off(ev, listener)` finds it.
type Entry = Fn & { f?: Fn };

/** Typed event emitter: `on`, `once`, `off`, `listeners`, and a protected `emitReserved`. */
export class Emitter<L, R> {
  #m = new Map<string, Entry[]>();

  /** Adds a listener; returns `this`. */
  on<E extends ListenNames<L, R>>(ev: E, fn: ListenerOf<L, R, E>): this {
    this.#m.set(ev, [...this.#get(ev), fn as Fn]);
    return this;
  }

  /** Adds a listener removed after its first call. */
  once<E extends ListenNames<L, R>>(ev: E, fn: ListenerOf<L, R, E>): this {
    const w: Entry = (...args: never[]) => {
      this.off(ev, w as ListenerOf<L, R, E>);
      (fn as Fn)(...args);
    };
    w.f = fn as Fn;
    return this.on(ev, w as ListenerOf<L, R, E>);
  }

  /** Removes one listener, every listener of one event, or (no argument) all listeners. */
  off<E extends ListenNames<L, R>>(ev?: E, fn?: ListenerOf<L, R, E>): this {
    if (!ev) this.#m.clear();
    else this.#m.set(ev, fn ? this.#get(ev).filter((l) => l !== fn && l.f !== fn) : []);
    return this;
  }

  /** The listeners of one event (a copy). */
  listeners<E extends ListenNames<L, R>>(ev: E): ListenerOf<L, R, E>[] {
    return [...this.#get(ev)] as ListenerOf<L, R, E>[];
  }

  /** Calls the listeners of one of the class's own events. */
  protected emitReserved<E extends EventNames<R>>(ev: E, ...args: EventParams<R, E>): void {
    for (const fn of this.#get(ev)) (fn as (...a: unknown[]) => void)(...args);
  }

  // Listener arrays are replaced, never mutated, so emitting iterates a stable snapshot.
  #get(ev: string): Entry[] {
    return this.#m.get(ev) ?? [];
  }
}
