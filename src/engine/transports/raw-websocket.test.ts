import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import * as wsModule from "ws";
import { RawWebSocket } from "./raw-websocket.js";

/** `ws` exports its `Sender` (and its static `frame()`) without type declarations. */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

/** A client frame (masked) built by `ws`, an implementation other than ours. */
function clientFrame(payload: Buffer, isBinary: boolean, fin = true, isFirst = true): Buffer {
  const opcode = isFirst ? (isBinary ? 2 : 1) : 0;
  const parts = Sender.frame(Buffer.from(payload), {
    fin,
    opcode,
    mask: true,
    readOnly: false,
    rsv1: false,
    maskBuffer: Buffer.alloc(4),
    generateMask: (mask: Buffer) => mask.set([0x9a, 0x11, 0xe3, 0x47]),
  });
  return Buffer.concat(parts);
}

/** A RawWebSocket on a socket that goes nowhere, and the messages it reports. */
function open(maxPayload = 1 << 20): { ws: RawWebSocket; got: [string, boolean][] } {
  const socket = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() });
  const ws = new RawWebSocket(socket, maxPayload);
  const got: [string, boolean][] = [];
  ws.listener = {
    receive: (data, isBinary) => got.push([data.toString(isBinary ? "hex" : "utf8"), isBinary]),
    fail: (err) => assert.fail(err),
    closed() {},
  };
  return { ws, got };
}

/** `n` bytes of printable ASCII, different for each `seed`. */
function payloadOf(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 33 + ((i * 7 + seed * 13 + (i >> 9)) % 90);
  return b;
}

const SIZES = [0, 1, 125, 126, 3_000, 4_095, 4_096, 9_000, 65_536, 70_001];
const CHUNKS = [1, 2, 7, 100, 4_095, 4_096, 5_000, 32_768, 65_536];

test("frames cut into any chunks, some of them views of larger buffers, arrive intact", () => {
  const message = fc.record({
    size: fc.constantFrom(...SIZES),
    isBinary: fc.boolean(),
    fragments: fc.constantFrom(1, 1, 1, 2, 3),
  });
  fc.assert(
    fc.property(
      fc.array(message, { minLength: 1, maxLength: 6 }),
      fc.array(fc.record({ size: fc.constantFrom(...CHUNKS), pad: fc.nat(3) }), {
        minLength: 1,
        maxLength: 20,
      }),
      (messages, cuts) => {
        const expected: [string, boolean][] = [];
        const frames: Buffer[] = [];
        messages.forEach(({ size, isBinary, fragments }, seed) => {
          const payload = payloadOf(size, seed);
          expected.push([payload.toString(isBinary ? "hex" : "utf8"), isBinary]);
          const step = Math.ceil(size / fragments);
          for (let k = 0; k < fragments; k++) {
            const part = payload.subarray(k * step, (k + 1) * step);
            frames.push(clientFrame(part, isBinary, k === fragments - 1, k === 0));
          }
        });
        const stream = Buffer.concat(frames);
        const { ws, got } = open();
        // Chunks as a socket reads them (a buffer of their own), or (pad > 0) a view into
        // the middle of a buffer up to 4x larger, which must not be kept whole.
        for (let at = 0, i = 0; at < stream.length; i++) {
          const { size, pad } = cuts[i % cuts.length]!;
          const bytes = stream.subarray(at, at + size);
          at += bytes.length;
          if (pad === 0) {
            ws.receive(Buffer.from(bytes));
          } else {
            const outer = Buffer.alloc(bytes.length * (pad + 1) + 1, 0xee);
            bytes.copy(outer, 1);
            ws.receive(outer.subarray(1, 1 + bytes.length));
          }
        }
        assert.deepEqual(got, expected);
      },
    ),
    { numRuns: 150 },
  );
});

test("an incomplete frame keeps no more than twice what arrived of it", async () => {
  // The memory a partial frame holds shows in process.memoryUsage().arrayBuffers: a rest
  // that is a small part of a large buffer must be copied, not kept as a view of it all.
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  // Array buffers are swept after a collection, on another thread: settle, then read.
  const arrayBytes = async (): Promise<number> => {
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return process.memoryUsage().arrayBuffers;
  };
  const frame = clientFrame(payloadOf(600_000, 1), true);
  const held = async (complete: number, feed: (ws: RawWebSocket) => void): Promise<number> => {
    const { ws, got } = open();
    const before = await arrayBytes();
    feed(ws);
    const bytes = (await arrayBytes()) - before;
    assert.equal(got.length, complete, "the large frame is incomplete");
    return bytes;
  };
  // 10,000 bytes of the frame at the end of an 8 MB buffer (that also carries a whole frame).
  const small = await held(1, (ws) => {
    const outer = Buffer.alloc(8 << 20);
    const whole = clientFrame(payloadOf(10, 2), false);
    whole.copy(outer, outer.length - 10_000 - whole.length);
    frame.copy(outer, outer.length - 10_000, 0, 10_000);
    ws.receive(outer.subarray(outer.length - 10_000 - whole.length));
  });
  assert.ok(small < 1 << 20, `a 10 KB rest held ${small} bytes`);
  // Large chunks of their own are kept as they are: about what arrived, not twice.
  const large = await held(0, (ws) => {
    for (let at = 0; at < 500_000; at += 65_536) {
      ws.receive(Buffer.from(frame.subarray(at, Math.min(at + 65_536, 500_000))));
    }
  });
  assert.ok(large >= 500_000 && large < 600_000, `500 KB of a frame held ${large} bytes`);
});
