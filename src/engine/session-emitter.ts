/**
 * A typed event emitter with the listener methods of Node's `EventEmitter`, whose storage is
 * created on the first `on()`. Node's emitter costs about 250 bytes per instance before any
 * listener exists; a server layer that takes a session's messages through a handler object
 * never pays for listeners it does not add, which matters at 10,000+ idle sessions.
 */

type Listener = (...args: never[]) => unknown;
type Wrapped = Listener & { listener?: Listener };

/** Listener methods over the events map `T` (event name to argument tuple). */
export class SessionEmitter<T extends { [K in keyof T]: unknown[] }> {
  // hot path: undefined until the first listener; one function or a list per event.
  #listeners: Map<keyof T, Listener | Listener[]> | undefined;

  /** Adds a listener. */
  on<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    this.#listeners ??= new Map();
    const current = this.#listeners.get(event);
    const fn = listener as Listener;
    // Copy on write, so that emitting while listeners change is safe.
    let next: Listener | Listener[] = fn;
    if (typeof current === "function") next = [current, fn];
    else if (current !== undefined) next = [...current, fn];
    this.#listeners.set(event, next);
    return this;
  }

  /** @see SessionEmitter.on */
  addListener<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    return this.on(event, listener);
  }

  /** Adds a listener that runs at most once. */
  once<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    const wrapper: Wrapped = (...args: never[]) => {
      removeFrom(this.#listeners, event, wrapper);
      (listener as Listener)(...args);
    };
    wrapper.listener = listener as Listener;
    return this.on(event, wrapper as (...args: T[K]) => void);
  }

  /** Removes a listener (also one added with `once`). */
  off<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    removeFrom(this.#listeners, event, listener as Listener);
    return this;
  }

  /** @see SessionEmitter.off */
  removeListener<K extends keyof T>(event: K, listener: (...args: T[K]) => void): this {
    return this.off(event, listener);
  }

  /** Removes every listener, or every listener of one event. */
  removeAllListeners(event?: keyof T): this {
    if (event === undefined) this.#listeners = undefined;
    else this.#listeners?.delete(event);
    return this;
  }

  /** How many listeners an event has. */
  listenerCount(event: keyof T): number {
    const current = this.#listeners?.get(event);
    if (current === undefined) return 0;
    return typeof current === "function" ? 1 : current.length;
  }

  /** The listeners of an event (the original functions for `once` listeners). */
  listeners<K extends keyof T>(event: K): ((...args: T[K]) => void)[] {
    const current = this.#listeners?.get(event);
    if (current === undefined) return [];
    const list = typeof current === "function" ? [current] : current;
    return list.map((fn) => ((fn as Wrapped).listener ?? fn) as (...args: T[K]) => void);
  }

  /** Calls the listeners of `event` in order; returns whether there were any. */
  emit<K extends keyof T>(event: K, ...args: T[K]): boolean {
    const current = this.#listeners?.get(event);
    if (current === undefined) return false;
    if (typeof current === "function") {
      (current as (...a: T[K]) => void)(...args);
      return true;
    }
    for (let i = 0; i < current.length; i++) (current[i] as (...a: T[K]) => void)(...args);
    return true;
  }

  /** Whether `event` has a listener: lets hot paths skip building an event's arguments. */
  protected hasListeners(event: keyof T): boolean {
    return this.#listeners?.has(event) === true;
  }
}

// A module-level function rather than a `#` method: a class with `#` methods stores a brand
// in each instance (8 bytes per session).
function removeFrom<K>(
  listeners: Map<K, Listener | Listener[]> | undefined,
  event: K,
  listener: Listener,
): void {
  const current = listeners?.get(event);
  if (listeners === undefined || current === undefined) return;
  const list = typeof current === "function" ? [current] : current;
  const index = list.findIndex((fn) => fn === listener || (fn as Wrapped).listener === listener);
  if (index === -1) return;
  const next = list.slice(0, index).concat(list.slice(index + 1));
  if (next.length === 0) listeners.delete(event);
  else listeners.set(event, next.length === 1 ? next[0]! : next);
}
