/** The middleware chain of `io.use()` and `socket.use()`. */

/** Runs middleware in order; stops at the first error. */
export function runMiddlewares<A>(
  fns: readonly ((arg: A, next: (err?: Error) => void) => void)[],
  arg: A,
  done: (err: Error | undefined) => void,
): void {
  const step = (i: number): void => {
    const fn = fns[i];
    if (fn === undefined) {
      done(undefined);
      return;
    }
    let called = false;
    fn(arg, (err?: Error) => {
      if (called) return; // next() called twice: ignore the second call
      called = true;
      if (err !== undefined && err !== null) done(err);
      else step(i + 1);
    });
  };
  step(0);
}
