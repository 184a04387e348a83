/**
 * A small typed listener store, the base of `Socket`, `Namespace` and `Server`. Unlike
 * Node's EventEmitter it leaves `emit` free for sending to clients; local listeners are
 * fired with `emitReserved` (library events) and `emitUntyped` (incoming client events).
 */
import type { EventNames, ListenerOf } from "./typed-events.js";

type Fn = (...args: never[]) => unknown;

/** Typed `on/once/off` over the listen events `L` and the library's reserved events `R`. */
export class TypedEmitter<L, R> {
  // hot path: one lazily created map; most sockets have a handful of events.
  #listeners: Map<string, Fn[]> | undefined;

  /** Adds a listener. @returns this, as Socket.IO users expect. */
  on<Ev extends EventNames<L> | EventNames<R>>(ev: Ev, listener: ListenerOf<L, R, Ev>): this {
    this.#listeners ??= new Map();
    const list = this.#listeners.get(ev);
    // Copy on write, so that emitting while listeners change is safe.
    this.#listeners.set(ev, list === undefined ? [listener as Fn] : [...list, listener as Fn]);
    return this;
  }

  /** @see TypedEmitter.on */
  addListener<Ev extends EventNames<L> | EventNames<R>>(
    ev: Ev,
    listener: ListenerOf<L, R, Ev>,
  ): this {
    return this.on(ev, listener);
  }

  /** Adds a listener that runs at most once. */
  once<Ev extends EventNames<L> | EventNames<R>>(ev: Ev, listener: ListenerOf<L, R, Ev>): this {
    const wrapper = (...args: never[]): void => {
      this.#remove(ev, wrapper);
      (listener as Fn)(...args);
    };
    Object.defineProperty(wrapper, "listener", { value: listener });
    return this.on(ev, wrapper as ListenerOf<L, R, Ev>);
  }

  /** Removes a listener (or, with no listener, every listener of the event). */
  off<Ev extends EventNames<L> | EventNames<R>>(ev: Ev, listener?: ListenerOf<L, R, Ev>): this {
    if (listener === undefined) this.#listeners?.delete(ev);
    else this.#remove(ev, listener as Fn);
    return this;
  }

  /** @see TypedEmitter.off */
  removeListener<Ev extends EventNames<L> | EventNames<R>>(
    ev: Ev,
    listener: ListenerOf<L, R, Ev>,
  ): this {
    return this.off(ev, listener);
  }

  /** Removes every listener, or every listener of one event. */
  removeAllListeners(ev?: EventNames<L> | EventNames<R>): this {
    if (ev === undefined) this.#listeners = undefined;
    else this.#listeners?.delete(ev);
    return this;
  }

  /** The listeners of an event. */
  listeners<Ev extends EventNames<L> | EventNames<R>>(ev: Ev): ListenerOf<L, R, Ev>[] {
    return [...(this.#listeners?.get(ev) ?? [])] as ListenerOf<L, R, Ev>[];
  }

  /** How many listeners an event has. */
  listenerCount(ev: EventNames<L> | EventNames<R>): number {
    return this.#listeners?.get(ev)?.length ?? 0;
  }

  /** Fires a library event on local listeners. Listener errors propagate to the caller. */
  protected emitReserved<Ev extends EventNames<R>>(
    ev: Ev,
    ...args: R[Ev] extends (...a: infer P) => unknown ? P : never
  ): boolean {
    return this.emitUntyped(ev, args);
  }

  /** Fires any event on local listeners with the given arguments. */
  protected emitUntyped(ev: string, args: readonly unknown[]): boolean {
    const list = this.#listeners?.get(ev);
    if (list === undefined) return false;
    for (let i = 0; i < list.length; i++)
      (list[i] as (...a: readonly unknown[]) => unknown)(...args);
    return true;
  }

  #remove(ev: string, listener: Fn): void {
    const list = this.#listeners?.get(ev);
    if (list === undefined) return;
    const index = list.findIndex(
      (fn) => fn === listener || (fn as { listener?: Fn }).listener === listener,
    );
    if (index === -1) return;
    const next = list.slice(0, index).concat(list.slice(index + 1));
    if (next.length === 0) this.#listeners!.delete(ev);
    else this.#listeners!.set(ev, next);
  }
}
