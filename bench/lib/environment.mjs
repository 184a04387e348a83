// What the run happened on: machine, Node, package versions, the Switchboard build.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

const ROOT = new URL("../../", import.meta.url);

/** The `Max open files` soft limit of this process (Infinity if unlimited). */
export function openFilesLimit() {
  const m = /Max open files\s+(\d+|unlimited)/.exec(readFileSync("/proc/self/limits", "utf8"));
  return !m || m[1] === "unlimited" ? Infinity : Number(m[1]);
}

/** Version of the first package.json found among `paths` (relative to the project root). */
function versionAt(...paths) {
  for (const path of paths) {
    try {
      return JSON.parse(readFileSync(new URL(path, ROOT), "utf8")).version;
    } catch {
      // not at this path: try the next one
    }
  }
  return "not installed";
}

const pkg = (name) => `node_modules/${name}/package.json`;

/** Package versions the contestants load, resolved as Node resolves them from each user. */
function packageVersions() {
  return {
    switchboard: versionAt("package.json"),
    ws: versionAt(pkg("ws")),
    "ws (under engine.io)": versionAt(`node_modules/engine.io/${pkg("ws")}`, pkg("ws")),
    "ws (under engine.io-client)": versionAt(
      `node_modules/engine.io-client/${pkg("ws")}`,
      pkg("ws"),
    ),
    "socket.io": versionAt(pkg("socket.io")),
    "socket.io-client": versionAt(pkg("socket.io-client")),
    "engine.io": versionAt(pkg("engine.io")),
    "engine.io-client": versionAt(pkg("engine.io-client")),
    "socket.io-parser": versionAt(pkg("socket.io-parser")),
    "socket.io-adapter": versionAt(pkg("socket.io-adapter")),
    "@trufflesuite/uws-js-unofficial": versionAt(pkg("@trufflesuite/uws-js-unofficial")),
  };
}

function git(...args) {
  try {
    return execFileSync("git", args, {
      cwd: ROOT,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "";
  }
}

/** The commit dist/ was built from, and whether src/ had uncommitted changes. */
function switchboardBuild() {
  const commit = git("rev-parse", "--short", "HEAD") || "unknown";
  const dirty = git("status", "--porcelain", "--", "src") !== "";
  return { commit, dirty };
}

/** Everything the report's Environment section shows. */
export function environment() {
  const cpu = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    nproc: os.availableParallelism?.() ?? cpu.length,
    cpuModel: cpu[0]?.model ?? "unknown",
    kernel: `${os.type()} ${os.release()}`,
    memGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    openFiles: openFilesLimit(),
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" "),
    packages: packageVersions(),
    build: switchboardBuild(),
    sbRecovery:
      process.env.BENCH_SB_RECOVERY === "off" ? "off (BENCH_SB_RECOVERY=off)" : "on (default)",
  };
}
