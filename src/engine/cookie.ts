/**
 * The optional session cookie (engine.io's `cookie` option): `io=<sid>` set on the
 * handshake response, typically used by load balancers for sticky sessions.
 */

/** Cookie attributes; `name` defaults to `"io"`, `path` to `"/"`. */
export interface CookieOptions {
  name?: string;
  path?: string;
  httpOnly?: boolean;
  sameSite?: "strict" | "lax" | "none";
  secure?: boolean;
  /** Lifetime in seconds. */
  maxAge?: number;
}

/** Cookie attributes after defaults (engine.io: path "/", HttpOnly, SameSite=Lax). */
export type ResolvedCookieOptions = Required<Pick<CookieOptions, "name" | "path">> &
  Omit<CookieOptions, "name" | "path">;

/** Applies engine.io's defaults to the `cookie` option; `false` when no cookie is wanted. */
export function resolveCookieOptions(
  option: boolean | CookieOptions | undefined,
): ResolvedCookieOptions | false {
  if (option === undefined || option === false) return false;
  const given = option === true ? {} : option;
  return {
    httpOnly: true,
    sameSite: "lax",
    ...given,
    name: given.name ?? "io",
    path: given.path ?? "/",
  };
}

const SAME_SITE = { strict: "Strict", lax: "Lax", none: "None" } as const;

/** Serializes a `Set-Cookie` value (RFC 6265 §4.1) for the session id `value`. */
export function serializeCookie(value: string, options: ResolvedCookieOptions): string {
  let cookie = `${options.name}=${encodeURIComponent(value)}`;
  if (options.maxAge !== undefined) cookie += `; Max-Age=${Math.floor(options.maxAge)}`;
  cookie += `; Path=${options.path}`;
  if (options.httpOnly === true) cookie += "; HttpOnly";
  if (options.secure === true) cookie += "; Secure";
  if (options.sameSite !== undefined) cookie += `; SameSite=${SAME_SITE[options.sameSite]}`;
  return cookie;
}
