/**
 * A test-only loopback TCP proxy that misbehaves on purpose: it splits and delays writes,
 * stalls reads, and cuts connections at random moments. Driven by a seeded PRNG so a
 * failing run can be replayed with the same seed.
 */
import { createServer, type Server, Socket } from "node:net";

/** How badly the proxy behaves. */
export interface ChaosOptions {
  /** The server to forward to, on 127.0.0.1. */
  readonly targetPort: number;
  /** PRNG seed; the same seed gives the same decisions for the same traffic. */
  readonly seed?: number;
  /** Chance per chunk that it is split into several writes. Default 0.3. */
  readonly splitChance?: number;
  /** Chance per chunk that it is delayed by up to `maxDelayMs`. Default 0.1. */
  readonly delayChance?: number;
  readonly maxDelayMs?: number;
  /** Chance per chunk that reading stalls for up to `maxStallMs`. Default 0.02. */
  readonly stallChance?: number;
  readonly maxStallMs?: number;
  /** A connection is cut after a random lifetime in [minLifeMs, maxLifeMs]; 0 disables cuts. */
  readonly minLifeMs?: number;
  readonly maxLifeMs?: number;
}

/** A running proxy. */
export interface ChaosProxy {
  readonly port: number;
  /** How many connections the proxy cut on purpose. */
  readonly cuts: number;
  /** Stops cutting (lets a run drain). */
  calm(): void;
  /** Cuts every open connection now. */
  cutAll(): void;
  close(): Promise<void>;
}

/** Mulberry32: a tiny, good-enough seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** How long a connection lives before the proxy cuts it, or undefined for no limit. */
function connectionLifeMs(opts: ChaosOptions, random: () => number): number | undefined {
  const min = opts.minLifeMs ?? 0;
  const max = opts.maxLifeMs ?? 0;
  return max > 0 ? min + random() * (max - min) : undefined;
}

/** Starts the proxy on 127.0.0.1, a free port. */
export async function startChaosProxy(opts: ChaosOptions): Promise<ChaosProxy> {
  const random = prng(opts.seed ?? 1);
  const pairs = new Set<[Socket, Socket]>();
  let cuts = 0;
  let calm = false;
  const cut = (pair: [Socket, Socket]): void => {
    if (!pairs.delete(pair)) return;
    pair[0].destroy();
    pair[1].destroy();
  };
  // No Nagle: the proxy's split writes would otherwise wait for delayed TCP ACKs (~40 ms
  // each), which turns a one-emit-at-a-time client into a crawl.
  const server: Server = createServer({ noDelay: true }, (client) => {
    const upstream = new Socket();
    upstream.setNoDelay(true);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    upstream.connect(opts.targetPort, "127.0.0.1");
    forward(client, upstream, random, opts);
    forward(upstream, client, random, opts);
    const onEnd = (): void => cut(pair);
    for (const s of pair) {
      s.on("error", onEnd);
      s.on("close", onEnd);
    }
    const lifeMs = connectionLifeMs(opts, random);
    if (lifeMs === undefined) return;
    const timer = setTimeout(() => {
      if (calm || !pairs.has(pair)) return;
      cuts++;
      cut(pair);
    }, lifeMs);
    timer.unref();
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : 0,
    get cuts() {
      return cuts;
    },
    calm() {
      calm = true;
    },
    cutAll() {
      for (const pair of [...pairs]) {
        cuts++;
        cut(pair);
      }
    },
    close() {
      for (const pair of [...pairs]) cut(pair);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Pipes `from` to `to`, splitting, delaying and stalling, in order. */
function forward(from: Socket, to: Socket, random: () => number, opts: ChaosOptions): void {
  // A promise chain keeps chunks in order whatever the delays.
  let chain = Promise.resolve();
  from.on("data", (chunk: Buffer) => {
    if (random() < (opts.stallChance ?? 0.02)) {
      from.pause();
      setTimeout(() => from.resume(), random() * (opts.maxStallMs ?? 50));
    }
    const pieces = random() < (opts.splitChance ?? 0.3) ? split(chunk, random) : [chunk];
    const delay = random() < (opts.delayChance ?? 0.1) ? random() * (opts.maxDelayMs ?? 20) : 0;
    chain = chain.then(async () => {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      for (const piece of pieces) {
        if (to.destroyed) return;
        to.write(piece);
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}

function split(chunk: Buffer, random: () => number): Buffer[] {
  const pieces: Buffer[] = [];
  let offset = 0;
  while (offset < chunk.length) {
    const size = 1 + Math.floor(random() * Math.max(1, chunk.length / 3));
    pieces.push(chunk.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}
