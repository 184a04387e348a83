/**
 * A tiny opt-in debug logger with no dependency: lines go to `console.error` when the
 * `DEBUG` environment variable contains `switchboard:engine` (or `switchboard:*`).
 */

/** Logs one line when debugging is enabled; a no-op otherwise. */
export type DebugLog = (message: string, ...details: unknown[]) => void;

function isEnabled(namespace: string): boolean {
  const setting = typeof process === "undefined" ? undefined : process.env.DEBUG;
  if (setting === undefined || setting === "") return false;
  return setting.split(/[\s,]+/).some((pattern) => {
    if (pattern === "*" || pattern === namespace) return true;
    if (pattern.endsWith("*")) return namespace.startsWith(pattern.slice(0, -1));
    return namespace.startsWith(`${pattern}:`);
  });
}

/**
 * Creates a logger for `namespace` (e.g. `"switchboard:engine:polling"`). The environment is
 * read once, so a disabled logger costs one function call.
 */
export function createDebug(namespace: string): DebugLog {
  if (!isEnabled(namespace)) return () => {};
  return (message, ...details) => {
    console.error(`${new Date().toISOString()} ${namespace} ${message}`, ...details);
  };
}
