// What the profile/ tools share: their `--prof <file>` argument, an in-process V8 CPU
// profile (summarise it with profile/top-functions.mjs), and callgrind's switch for
// profile/instructions.mjs.
import { execFile } from "node:child_process";
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

/**
 * Under valgrind's callgrind started with `--instr-atstart=no` and BENCH_CALLGRIND=1 (see
 * profile/instructions.mjs), turns its counting on or off for this process, so that the
 * measured round alone is counted. Does nothing without BENCH_CALLGRIND=1.
 */
export function countInstructions(isOn) {
  if (process.env.BENCH_CALLGRIND !== "1") return Promise.resolve();
  // Asynchronous: valgrind answers the request while this process goes on running.
  return new Promise((resolve, reject) => {
    execFile("callgrind_control", ["-i", isOn ? "on" : "off", String(process.pid)], (err) =>
      err ? reject(new Error(`callgrind_control: ${err.message}`)) : resolve(),
    );
  });
}
