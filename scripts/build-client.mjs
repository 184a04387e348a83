// Bundles the browser client with esbuild: dist/client/switchboard.min.js (full: polling +
// WebSocket) and dist/client/switchboard.ws.min.js (WebSocket only). ESM, minified, browser
// platform. What only Node loads (`ws` and `node:http(s)`, by dynamic imports run only in
// Node) stays external, so it is never bundled. `test/client-size.test.ts` checks the
// gzipped sizes against the budgets below.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The bundles and their gzip -9 budgets in bytes. */
export const bundles = [
  { entry: "src/client/index.ts", out: "dist/client/switchboard.min.js", budget: 6 * 1024 },
  { entry: "src/client/ws.ts", out: "dist/client/switchboard.ws.min.js", budget: 4.25 * 1024 },
];

/** Builds one bundle in memory and returns its minified bytes. */
export async function bundle(entry) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    external: ["ws", "node:*"],
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  return result.outputFiles[0].contents;
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
