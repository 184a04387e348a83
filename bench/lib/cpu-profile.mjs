// What the profile/ tools share: their `--prof <file>` argument and an in-process V8 CPU
// profile (summarise it with profile/top-functions.mjs).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

/** Splits a tool's arguments: the `--prof` file, and the positional arguments. */
export function parseToolArgs(args) {
  const profIndex = args.indexOf("--prof");
  const profFile = profIndex === -1 ? undefined : args[profIndex + 1];
  const positional = args.filter(
    (a, i) => !a.startsWith("--") && (profIndex === -1 || i !== profIndex + 1),
  );
  return { profFile, positional };
}

/** Starts sampling this process every 200 us; `stop(file)` writes the profile there. */
export async function startCpuProfile() {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 200 });
  await session.post("Profiler.start");
  return {
    async stop(file) {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
