/**
 * A small CORS implementation for the polling transport (the subset of the `cors` package
 * that engine.io users configure): allowed origins, methods, headers, credentials, max-age,
 * and `OPTIONS` preflight answers (Fetch standard §3.2 "CORS protocol").
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** A fixed origin rule: `true` reflects any origin, a string is sent as is, patterns match. */
export type StaticOrigin = boolean | string | RegExp | readonly (string | RegExp)[];

/** Decides per request; calls back with the rule to apply to that request's origin. */
export type OriginResolver = (
  origin: string | undefined,
  callback: (err: Error | null, origin?: StaticOrigin) => void,
) => void;

/** CORS options, named as in the `cors` package that Socket.IO documents. */
export interface CorsOptions {
  /** Which origins may call: default `"*"`. */
  origin?: StaticOrigin | OriginResolver;
  /** Allowed methods for preflight answers: default `"GET,POST"`. */
  methods?: string | readonly string[];
  /** Allowed request headers: default, whatever the preflight asks for. */
  allowedHeaders?: string | readonly string[];
  /** Response headers the page may read. */
  exposedHeaders?: string | readonly string[];
  /** Send `Access-Control-Allow-Credentials: true`. */
  credentials?: boolean;
  /** How long a preflight answer may be cached, in seconds. */
  maxAge?: number;
}

function join(value: string | readonly string[]): string {
  return typeof value === "string" ? value : value.join(",");
}

function isAllowed(origin: string, rule: string | RegExp | readonly (string | RegExp)[]): boolean {
  if (typeof rule === "string") return origin === rule;
  if (rule instanceof RegExp) return rule.test(origin);
  return rule.some((entry) => isAllowed(origin, entry));
}

function addVary(res: ServerResponse, field: string): void {
  const current = res.getHeader("Vary");
  const text = Array.isArray(current) ? current.join(", ") : String(current ?? "");
  if (
    text === "*" ||
    text
      .toLowerCase()
      .split(/\s*,\s*/)
      .includes(field.toLowerCase())
  )
    return;
  res.setHeader("Vary", text === "" ? field : `${text}, ${field}`);
}

/** Sets `Access-Control-Allow-Origin` (and `Vary: Origin`) for one origin rule. */
function applyOrigin(req: IncomingMessage, res: ServerResponse, rule: StaticOrigin): void {
  const origin = req.headers.origin;
  if (rule === false) return;
  if (rule === "*") {
    res.setHeader("Access-Control-Allow-Origin", "*");
    return;
  }
  addVary(res, "Origin");
  if (rule === true) {
    if (origin !== undefined) res.setHeader("Access-Control-Allow-Origin", origin);
  } else if (typeof rule === "string") {
    res.setHeader("Access-Control-Allow-Origin", rule);
  } else if (origin !== undefined && isAllowed(origin, rule)) {
    res.setHeader("Access-Control-Allow-Origin", origin);
  }
}

function applyPreflight(req: IncomingMessage, res: ServerResponse, options: CorsOptions): void {
  res.setHeader("Access-Control-Allow-Methods", join(options.methods ?? "GET,POST"));
  if (options.allowedHeaders !== undefined) {
    res.setHeader("Access-Control-Allow-Headers", join(options.allowedHeaders));
  } else {
    const requested = req.headers["access-control-request-headers"];
    if (requested !== undefined) {
      addVary(res, "Access-Control-Request-Headers");
      res.setHeader("Access-Control-Allow-Headers", requested);
    }
  }
  if (options.maxAge !== undefined) res.setHeader("Access-Control-Max-Age", String(options.maxAge));
}

function applyHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  options: CorsOptions,
  rule: StaticOrigin,
): void {
  applyOrigin(req, res, rule);
  if (rule === false) return;
  if (options.credentials === true) res.setHeader("Access-Control-Allow-Credentials", "true");
  if (req.method === "OPTIONS") applyPreflight(req, res, options);
  else if (options.exposedHeaders !== undefined) {
    res.setHeader("Access-Control-Expose-Headers", join(options.exposedHeaders));
  }
}

/**
 * Applies CORS headers to `res`, then calls `next(isPreflightAnswered)`: when it is true, an
 * `OPTIONS` preflight was answered with 204 and the request is done. A failing origin
 * resolver answers 500.
 */
export function handleCors(
  req: IncomingMessage,
  res: ServerResponse,
  options: CorsOptions,
  next: (isPreflightAnswered: boolean) => void,
): void {
  const finish = (rule: StaticOrigin): void => {
    applyHeaders(req, res, options, rule);
    if (req.method !== "OPTIONS") {
      next(false);
      return;
    }
    res.writeHead(204, { "Content-Length": 0 });
    res.end();
    next(true);
  };
  const origin = options.origin ?? "*";
  if (typeof origin !== "function") {
    finish(origin);
    return;
  }
  (origin as OriginResolver)(req.headers.origin, (err, rule) => {
    if (err) {
      res.writeHead(500).end();
      next(true);
      return;
    }
    finish(rule ?? false);
  });
}
