/**
 * Random ids for sessions and sockets: 15 bytes from the CSPRNG, in base64url (20
 * characters), as engine.io's and Socket.IO's ids. `crypto.randomBytes` costs a call into
 * the CSPRNG per id (several microseconds, three times per connection); the bytes are taken
 * from a pool refilled 256 ids at a time instead, as `ws` does for its masks. Every byte is
 * used once.
 */
import { Buffer } from "node:buffer";
import { randomFillSync } from "node:crypto";

const ID_BYTES = 15;
const POOL_SIZE = ID_BYTES * 256;

// hot path: a module-level pool, as ws's sender keeps its random pool. It only ever holds
// unused random bytes, so sharing it between servers couples nothing.
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** A new random id: 15 random bytes as 20 base64url characters. */
export function randomId(): string {
  if (offset === POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString("base64url", offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
