// Enforces STYLE.md §2: 700 lines is a hard review stop for a file. Source, tests, scripts
// and the bench are checked (functions past 60 lines are biome's noExcessiveLinesPerFunction,
// biome.json). Run by `npm run lint`.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const ROOTS = ["src", "test", "scripts", "bench"];
const MAX_LINES = 700;

/** The `.ts` and `.mjs` files under `root` (bench results and dependencies left out). */
function sourceFiles(root) {
  return readdirSync(root, { recursive: true })
    .filter((path) => /\.(ts|mjs)$/.test(path) && !/(^|\/)(node_modules|results)\//.test(path))
    .map((path) => join(root, path));
}

const problems = [];
for (const root of ROOTS) {
  for (const file of sourceFiles(root)) {
    const lines = readFileSync(file, "utf8").split("\n").length - 1;
    if (lines > MAX_LINES)
      problems.push(`${file}: ${lines} lines (the review stop is ${MAX_LINES})`);
  }
}
if (problems.length > 0) {
  console.error(`file length check failed:\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("file length check: ok");
