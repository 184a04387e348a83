/**
 * JSON parsing for untrusted payloads: the nesting depth is measured in one linear,
 * non-recursive pass over the text before `JSON.parse` runs, so hostile input such as
 * `[[[[...]]]]` is refused before anything is allocated for it, and code that later walks
 * the parsed value recursively stays within a known depth.
 */
import { ErrorCode, fail, ok, type ProtocolError, type Result } from "../errors.js";

const CHAR_QUOTE = 0x22;
const CHAR_BACKSLASH = 0x5c;
const CHAR_OPEN_BRACKET = 0x5b;
const CHAR_CLOSE_BRACKET = 0x5d;
const CHAR_OPEN_BRACE = 0x7b;
const CHAR_CLOSE_BRACE = 0x7d;

/**
 * Parses `text` from `start` as JSON, refusing nesting deeper than `maxDepth` arrays/objects
 * (`NESTING_TOO_DEEP`) and unparsable text (`INVALID_JSON`). An empty rest is `undefined`.
 */
export function decodeJson(
  text: string,
  start: number,
  maxDepth: number,
): Result<unknown, ProtocolError> {
  if (start >= text.length) return ok(undefined);
  if (exceedsJsonDepth(text, start, maxDepth)) {
    return fail(ErrorCode.NESTING_TOO_DEEP, `payload nests deeper than ${maxDepth} levels`);
  }
  try {
    return ok(JSON.parse(start === 0 ? text : text.slice(start)) as unknown);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return fail(ErrorCode.INVALID_JSON, `payload is not valid JSON: ${reason}`);
  }
}

/**
 * True when the JSON text from `start` opens more than `maxDepth` nested arrays/objects.
 * One linear pass; string contents are skipped so brackets inside them do not count.
 */
export function exceedsJsonDepth(text: string, start: number, maxDepth: number): boolean {
  // hot path: text with at most maxDepth brackets in all cannot nest deeper; counting them
  // takes a few native indexOf calls, not a character loop.
  if (hasFewBrackets(text, start, maxDepth)) return false;
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === CHAR_QUOTE) {
      i = closingQuote(text, i);
    } else if (c === CHAR_OPEN_BRACKET || c === CHAR_OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (c === CHAR_CLOSE_BRACKET || c === CHAR_CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** Whether `text` from `start` holds at most `limit` opening brackets and braces in all. */
function hasFewBrackets(text: string, start: number, limit: number): boolean {
  let count = 0;
  for (let i = text.indexOf("[", start); i !== -1; i = text.indexOf("[", i + 1)) {
    if (++count > limit) return false;
  }
  for (let i = text.indexOf("{", start); i !== -1; i = text.indexOf("{", i + 1)) {
    if (++count > limit) return false;
  }
  return true;
}

/** Index of the quote closing the string opened at `open` (or the text length). */
function closingQuote(text: string, open: number): number {
  let i = open;
  for (;;) {
    i = text.indexOf('"', i + 1);
    if (i === -1) return text.length;
    // Escaped when preceded by an odd run of backslashes; each run is scanned only once.
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === CHAR_BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
}
