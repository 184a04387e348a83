import assert from "node:assert/strict";
import { describe, it } from "node:test";
// @ts-expect-error the build script is plain JavaScript without type declarations
import { bundle, bundles, gzipSize } from "../scripts/build-client.mjs";

interface Bundle {
  entry: string;
  out: string;
  budget: number;
}

describe("browser bundle size", () => {
  for (const b of bundles as Bundle[]) {
    it(`${b.out} stays within ${b.budget} bytes gzipped`, async () => {
      const bytes = (await bundle(b.entry)) as Uint8Array;
      const size = gzipSize(bytes) as number;
      console.log(`${b.out}: ${bytes.length} B minified, ${size} B gzip -9 (budget ${b.budget} B)`);
      assert.ok(size <= b.budget, `${size} B gzipped is over the ${b.budget} B budget`);
      const text = new TextDecoder().decode(bytes);
      // The browser bundle must not carry the Node fallback itself...
      assert.ok(!text.includes("permessage-deflate"));
      // ...nor the code that loads it: `isNode` is false in the bundles.
      assert.doesNotMatch(text, /import\(|_socket|cork/);
    });
  }
});
