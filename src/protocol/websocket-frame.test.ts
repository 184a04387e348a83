import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { test } from "node:test";
import fc from "fast-check";
import * as wsModule from "ws";
import {
  applyMask,
  closePayload,
  frameHeaderSize,
  isValidCloseCode,
  loadNativeUnmask,
  type NativeUnmask,
  newFrameHead,
  OP_BINARY,
  OP_CLOSE,
  OP_TEXT,
  readFrameHead,
  writeFrameHeader,
} from "./websocket-frame.js";

/** `ws` exports its `Sender` (and its static `frame()`) without type declarations. */
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] };
};

/** A frame built with our pieces: header, key, masked payload. */
function ours(opcode: number, payload: Buffer, key: Buffer | null): Buffer {
  const length = payload.length;
  const keyBytes = key === null ? 0 : 4;
  const frame = Buffer.alloc(frameHeaderSize(length) + keyBytes + length);
  const header = writeFrameHeader(frame, opcode, length, key !== null);
  if (key !== null) key.copy(frame, header);
  payload.copy(frame, header + keyBytes);
  if (key !== null) applyMask(frame, header, header + 4, header + 4 + length);
  return frame;
}

test("frames are byte for byte ws's, masked or not, at every length boundary", () => {
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  for (const length of [0, 1, 2, 3, 5, 125, 126, 127, 65_535, 65_536, 70_001]) {
    const payload = Buffer.alloc(length);
    for (let i = 0; i < length; i++) payload[i] = (i * 31 + 7) & 0xff;
    for (const opcode of [OP_TEXT, OP_BINARY]) {
      for (const mask of [null, key]) {
        const expected = Buffer.concat(
          Sender.frame(Buffer.from(payload), {
            fin: true,
            rsv1: false,
            opcode,
            mask: mask !== null,
            readOnly: false,
            generateMask: (into: Buffer) => key.copy(into),
          }),
        );
        assert.deepEqual(ours(opcode, payload, mask), expected, `length ${length}, mask ${!!mask}`);
      }
    }
  }
});

test("masking twice gives the payload back; a zero key leaves it as it is", () => {
  const buf = Buffer.from([9, 8, 7, 6, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07]);
  const original = Buffer.from(buf);
  applyMask(buf, 0, 4, buf.length);
  assert.notDeepEqual(buf, original);
  applyMask(buf, 0, 4, buf.length);
  assert.deepEqual(buf, original);
  const zero = Buffer.from([0, 0, 0, 0, 1, 2, 3]);
  applyMask(zero, 0, 4, zero.length);
  assert.deepEqual(zero, Buffer.from([0, 0, 0, 0, 1, 2, 3]));
});

/**
 * Checks `mask` against a plain byte-by-byte XOR, over view offsets, key offsets and
 * payload lengths (`lengths`), `runs` times.
 */
function checkMasking(
  mask: (buf: Uint8Array, keyAt: number, start: number, end: number) => void,
  lengths: fc.Arbitrary<number>,
  runs: number,
): void {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 7 }), // the view's byteOffset in its ArrayBuffer
      fc.integer({ min: 0, max: 9 }), // bytes before the key
      lengths,
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      fc.integer({ min: 1, max: 255 }),
      (byteOffset, keyAt, length, key, seed) => {
        const size = keyAt + 4 + length + 5; // 5 bytes after the payload, left as they are
        const buf = new Uint8Array(new ArrayBuffer(byteOffset + size), byteOffset, size);
        for (let i = 0; i < size; i++) buf[i] = (i * seed + 11) & 0xff;
        buf.set(key, keyAt);
        const start = keyAt + 4;
        const expected = Uint8Array.from(buf);
        for (let i = 0; i < length; i++) expected[start + i]! ^= key[i % 4]!;
        mask(buf, keyAt, start, start + length);
        assert.deepEqual(buf, expected);
      },
    ),
    { numRuns: runs },
  );
}

test("masking is the byte-by-byte XOR at every length, alignment and key offset", () => {
  // Payloads from 512 bytes on are masked a 32-bit word at a time, from the first aligned
  // byte: the byte offset of the view, the payload's start in it and its length all move
  // where the words begin and which key byte each word starts with.
  const lengths = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 500, max: 3000 }));
  checkMasking(applyMask, lengths, 400);
});

test("bufferutil's native unmask, through applyMask, is the same XOR as ours", () => {
  // bufferutil is a devDependency: the native function must load here.
  const native = loadNativeUnmask(createRequire(import.meta.url), undefined);
  assert.ok(native !== null, "bufferutil's addon did not load");
  const lengths = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 2000, max: 70_000 }));
  checkMasking((buf, keyAt, start, end) => applyMask(buf, keyAt, start, end, native), lengths, 200);
});

test("applyMask hands payloads of 2 KB and more, and only those, to the native function", () => {
  const calls: [number, number[]][] = [];
  const spy: NativeUnmask = (data, key) => {
    calls.push([data.length, [...key]]);
  };
  for (const length of [0, 2047, 2048, 5000]) {
    const buf = new Uint8Array(6 + length);
    buf.set([1, 2, 3, 4], 2);
    applyMask(buf, 2, 6, 6 + length, spy);
  }
  assert.deepEqual(calls, [
    [2048, [1, 2, 3, 4]],
    [5000, [1, 2, 3, 4]],
  ]);
  // Without a native function the JavaScript one masks every length.
  const buf = new Uint8Array(4 + 3000).fill(0xf0);
  buf.set([0x0f, 0x0f, 0x0f, 0x0f], 0);
  applyMask(buf, 0, 4, buf.length, null);
  assert.ok(buf.subarray(4).every((b) => b === 0xff));
});

test("loadNativeUnmask: null when turned off, not installed, or only a JavaScript fallback", () => {
  const load = createRequire(import.meta.url);
  assert.equal(loadNativeUnmask(load, "1"), null, "WS_NO_BUFFER_UTIL=1");
  assert.notEqual(loadNativeUnmask(load, ""), null, "an empty WS_NO_BUFFER_UTIL, as in ws");
  const missing = (id: string): never => {
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code: "MODULE_NOT_FOUND" });
  };
  assert.equal(loadNativeUnmask(missing, undefined), null);
  // bufferutil exports its JavaScript fallback when its addon does not load.
  const fallback = load("bufferutil/fallback.js") as { unmask: NativeUnmask };
  for (const exported of [fallback, {}, null]) {
    assert.equal(
      loadNativeUnmask(() => exported, undefined),
      null,
    );
  }
});

test("close statuses: the ones an endpoint may send, RFC 6455 §7.4", () => {
  for (const code of [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1014, 3000, 4999,
  ]) {
    assert.equal(isValidCloseCode(code), true, String(code));
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65_535]) {
    assert.equal(isValidCloseCode(code), false, String(code));
  }
});

test("a close payload is the status then the reason in UTF-8", () => {
  assert.deepEqual([...closePayload(1000, "")], [0x03, 0xe8]);
  assert.deepEqual([...closePayload(4001, "bé")], [0x0f, 0xa1, 0x62, 0xc3, 0xa9]);
});

test("a frame's head reads back what was written, and only once all of it is there", () => {
  const key = Buffer.from([1, 2, 3, 4]);
  for (const length of [0, 125, 126, 65_535, 65_536, 70_001]) {
    for (const mask of [null, key]) {
      const frame = ours(OP_BINARY, Buffer.alloc(length), mask);
      const head = newFrameHead();
      const size = frameHeaderSize(length) + (mask === null ? 0 : 4);
      for (let cut = 0; cut < size; cut++) {
        assert.equal(readFrameHead(frame.subarray(0, cut), 0, head), false, `${length}/${cut}`);
      }
      assert.equal(readFrameHead(frame, 0, head), true);
      assert.deepEqual(head, {
        fin: true,
        rsv: 0,
        opcode: OP_BINARY,
        masked: mask !== null,
        length,
        size,
      });
    }
  }
  // At an offset; FIN clear, RSV1 set, a control opcode.
  const head = newFrameHead();
  assert.equal(readFrameHead(Buffer.from([0xff, 0x48, 0x05]), 1, head), true);
  assert.deepEqual(head, {
    fin: false,
    rsv: 0x40,
    opcode: OP_CLOSE,
    masked: false,
    length: 5,
    size: 2,
  });
  // A 64-bit length past 2^53 - 1 cannot be counted exactly: Infinity, which no limit allows.
  const huge = Buffer.from([0x82, 0x7f, 0x00, 0x20, 0, 0, 0, 0, 0, 0]);
  assert.equal(readFrameHead(huge, 0, head), true);
  assert.equal(head.length, Number.POSITIVE_INFINITY);
  const largest = Buffer.from([0x82, 0x7f, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  readFrameHead(largest, 0, head);
  assert.equal(head.length, Number.MAX_SAFE_INTEGER);
});
