// Enforces STYLE.md §1: dependencies point one way. Each layer may import only the layers
// listed for it (plus src/errors.ts, layer zero). Run by `npm run lint`.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve("src");
const ALLOWED = {
  protocol: [],
  engine: ["protocol"],
  adapter: ["protocol"],
  server: ["protocol", "engine", "adapter"],
  client: ["protocol"],
  redis: ["protocol", "adapter"],
  nats: ["protocol", "adapter"],
  testkit: ["protocol", "engine", "adapter", "server", "client"],
  cli: ["protocol", "engine", "adapter", "server", "client"],
};

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith(".ts")) yield path;
  }
}

const problems = [];
for (const file of files(SRC)) {
  const [layer] = relative(SRC, file).split("/");
  if (!(layer in ALLOWED) || file.endsWith(".test.ts")) continue;
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(/from\s+"(\.[^"]+)"/g)) {
    const target = relative(SRC, resolve(dirname(file), match[1]));
    const [targetLayer] = target.split("/");
    if (target.startsWith(".."))
      problems.push(`${relative(".", file)}: imports outside src: ${match[1]}`);
    else if (targetLayer === layer || target === "errors.js") continue;
    else if (!ALLOWED[layer].includes(targetLayer)) {
      problems.push(
        `${relative(".", file)}: layer "${layer}" may not import "${targetLayer}" (${match[1]})`,
      );
    }
  }
}
if (problems.length > 0) {
  console.error(`layer check failed:\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("layer check: ok");
