/**
 * A small typed listener store, the base of `Socket`, `Namespace` and `Server`. Unlike
 * Node's EventEmitter it leaves `emit` free for sending to clients; local listeners are
 * fired with `emitReserved` (library events) and `emitUntyped` (incoming client events).
 */
import type { EventNames, ListenerOf } from "./typed-events.js";

type Fn = (...args: never[]) => unknown;

/** Typed `on/once/off` over the listen events `L` and the library's reserved events `R`. */
export class TypedEmitter<L, R> {
  // hot path and memory: a flat list [event, listeners, event, listeners, ...], created on
  // the first on(). Sockets listen to a handful of events: a linear scan is as fast as a Map
  // lookup, and the list costs a fraction of a Map's hash table per socket. An event with
  // one listener (the usual case) stores the function itself, not a one-element array.
  #listeners: (string | Fn | Fn[])[] | undefined;

  /** Adds a listener. @returns this, as Socket.IO users expect. */
  on<Ev extends EventNames<L> | EventNames<R>>(ev: Ev, listener: ListenerOf<L, R, Ev>): this {
    const entry = this.#entry(ev);
    // Copy on write, so that emitting while listeners change is safe.
    const fn = listener as Fn;
    this.#set(
      ev,
      entry === undefined ? fn : typeof entry === "function" ? [entry, fn] : [...entry, fn],
    );
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
    if (listener === undefined) this.#set(ev, undefined);
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
    else this.#set(ev, undefined);
    return this;
  }

  /** The listeners of an event. */
  listeners<Ev extends EventNames<L> | EventNames<R>>(ev: Ev): ListenerOf<L, R, Ev>[] {
    return [...(this.#get(ev) ?? [])] as ListenerOf<L, R, Ev>[];
  }

  /** How many listeners an event has. */
  listenerCount(ev: EventNames<L> | EventNames<R>): number {
    const entry = this.#entry(ev);
    return entry === undefined ? 0 : typeof entry === "function" ? 1 : entry.length;
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
    const entry = this.#entry(ev);
    if (entry === undefined) return false;
    if (typeof entry === "function") {
      (entry as (...a: readonly unknown[]) => unknown)(...args);
      return true;
    }
    for (let i = 0; i < entry.length; i++)
      (entry[i] as (...a: readonly unknown[]) => unknown)(...args);
    return true;
  }

  /** The listeners of `ev` as stored: one function, or an array of two or more. */
  #entry(ev: string): Fn | Fn[] | undefined {
    const entries = this.#listeners;
    if (entries === undefined) return undefined;
    for (let i = 0; i < entries.length; i += 2) {
      if (entries[i] === ev) return entries[i + 1] as Fn | Fn[];
    }
    return undefined;
  }

  #get(ev: string): Fn[] | undefined {
    const entry = this.#entry(ev);
    return typeof entry === "function" ? [entry] : entry;
  }

  /** Replaces the listeners of `ev`; `undefined` (or an empty list) removes the event. */
  #set(ev: string, value: Fn | Fn[] | undefined): void {
    const list = Array.isArray(value) && value.length === 1 ? value[0] : value;
    const isEmpty = list === undefined || (Array.isArray(list) && list.length === 0);
    const entries = this.#listeners;
    if (entries === undefined) {
      if (!isEmpty) this.#listeners = [ev, list];
      return;
    }
    for (let i = 0; i < entries.length; i += 2) {
      if (entries[i] !== ev) continue;
      if (isEmpty) entries.splice(i, 2);
      else entries[i + 1] = list;
      if (entries.length === 0) this.#listeners = undefined;
      return;
    }
    // concat() makes an exact-size array; push() or a spread would reserve room for about
    // 16 more entries, per socket.
    if (!isEmpty) this.#listeners = entries.concat([ev, list]);
  }

  #remove(ev: string, listener: Fn): void {
    const list = this.#get(ev);
    if (list === undefined) return;
    const index = list.findIndex(
      (fn) => fn === listener || (fn as { listener?: Fn }).listener === listener,
    );
    if (index === -1) return;
    this.#set(ev, list.slice(0, index).concat(list.slice(index + 1)));
  }
}
