// Bundles the browser client with esbuild: dist/client/switchboard.min.js (full: polling +
// WebSocket) and dist/client/switchboard.ws.min.js (WebSocket only). ESM, minified, browser
// platform. The bundles are for browsers: `globalThis.process` is undefined in them, so
// `isNode` (src/client/transport.ts) is false and what only Node runs (the `ws` import and
// corking, `node:http(s)` polling) is dropped. `test/client-size.test.ts` checks the gzipped
// sizes against the budgets below. Node imports the tsc build (dist/client/*.js) instead. The
// chat demo (`npm start`, src/cli/demo.ts) serves the full bundle made by `bundle()`.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, transform } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The bundles and their gzip -9 budgets in bytes. */
export const bundles = [
  { entry: "src/client/index.ts", out: "dist/client/switchboard.min.js", budget: 6 * 1024 },
  { entry: "src/client/ws.ts", out: "dist/client/switchboard.ws.min.js", budget: 4 * 1024 },
];

const target = "es2022";

/** Builds one bundle in memory and returns its minified bytes. */
export async function bundle(entry) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target,
    define: { "globalThis.process": "undefined" },
    // Members marked @internal, used only by the client's own modules: short names.
    mangleProps: /^(claimHandshakeConnect|joinsInHandshake|writePacket)$/,
    // Only resolved, never loaded: the branches that import them are dropped below.
    external: ["ws", "node:*", "*/node-websocket.js"],
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  // esbuild puts a constant imported from another module (`isNode`) in place only when it
  // prints the bundle, after deciding which branches live. Minifying the bundle once more
  // drops the branches it decides and the code only they used.
  const { code } = await transform(result.outputFiles[0].text, {
    minify: true,
    treeShaking: true,
    format: "esm",
    target,
    legalComments: "none",
  });
  return new TextEncoder().encode(code);
}

/** The gzip -9 size of some bytes. */
export const gzipSize = (bytes) => gzipSync(bytes, { level: 9 }).length;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { entry, out, budget } of bundles) {
    const bytes = await bundle(entry);
    const path = resolve(root, out);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    const gz = gzipSize(bytes);
    console.log(`${out}: ${bytes.length} B, ${gz} B gzipped (budget ${budget} B)`);
    if (gz > budget) process.exitCode = 1;
  }
}
