// Parent-process side: spawning children, RPC over IPC, and /proc readings.
import { execFileSync, fork } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

const live = new Set();

let clkTck = 100;
try {
  clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch {
  /* keep the Linux default */
}

/** Resident set size of a process in KiB, from /proc/PID/status (VmRSS). */
export function rssKB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return m ? Number(m[1]) : NaN;
}

/**
 * Pins every thread of process `pid` to CPU `cpu` (`taskset -a -p`, util-linux). Returns
 * false where that is not possible (no taskset, not Linux): the caller then runs unpinned.
 */
export function pinToCpu(pid, cpu) {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * CPU time process `pid` (default: this one) has run so far, in microseconds, split into its
 * main thread and the rest (V8's worker threads: background compiles and garbage-collection
 * helpers), from each thread's /proc schedstat (nanoseconds). Zeros where /proc has no
 * schedstat (not Linux).
 */
export function threadCpuUs(pid = process.pid) {
  let main = 0;
  let helpers = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      if (Number(tid) === pid) main += ns / 1000;
      else helpers += ns / 1000;
    }
  } catch {
    /* not Linux */
  }
  return { main, helpers };
}

/** User+system CPU seconds consumed so far by a process, from /proc/PID/stat. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / clkTck;
}

/**
 * Fork a Node child running `entry` and wait for its { type: 'ready' } message.
 * Returns a handle with rpc(), onMessage(), pid, ready (the ready message) and kill().
 */
export async function startChild(
  entry,
  args,
  { execArgv = [], env = {}, label = entry, readyTimeoutMs = 30_000 } = {},
) {
  const child = fork(entry, args, {
    execArgv,
    env: { ...process.env, ...env },
    // Children never write to our stdout (reserved for the result table).
    stdio: ["ignore", 2, 2, "ipc"],
  });
  live.add(child);
  const handle = childHandle(child, label);
  handle.ready = await awaitReady(handle, readyTimeoutMs).catch(async (err) => {
    await handle.kill();
    throw err;
  });
  return handle;
}

/**
 * The handle of a forked child: request/response messages by id (`rpc`), every other
 * message to the `onMessage` listeners, and an `{ type: "exit" }` message when it exits,
 * which also fails the requests still pending.
 */
function childHandle(child, label) {
  let seq = 0;
  const pending = new Map();
  const listeners = new Set();
  let exited = null;

  child.on("message", (msg) => {
    const p = msg?.id === undefined ? undefined : pending.get(msg.id);
    if (p === undefined) {
      for (const fn of listeners) fn(msg);
      return;
    }
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`${label}: ${msg.error}`));
  });
  child.on("exit", (code, signal) => {
    live.delete(child);
    exited = { code, signal };
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${label} exited (code ${code}, signal ${signal})`));
    }
    pending.clear();
    for (const fn of listeners) fn({ type: "exit", code, signal });
  });

  return {
    label,
    pid: child.pid,
    ready: null,
    get exited() {
      return exited;
    },
    onMessage(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    rpc(cmd, args = {}, timeoutMs = 30_000) {
      if (exited) return Promise.reject(new Error(`${label} already exited`));
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label}: rpc ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, cmd, args });
      });
    },
    /** Kill this child (by its own PID) and wait for it to be gone. */
    async kill() {
      if (exited) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await gone;
    },
  };
}

/** Resolves with the child's { type: 'ready' } message; rejects if it exits or times out first. */
function awaitReady(handle, timeoutMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${handle.label}: not ready after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const off = handle.onMessage((msg) => {
      if (msg?.type === "ready") {
        clearTimeout(timer);
        off();
        resolve(msg);
      } else if (msg?.type === "exit") {
        clearTimeout(timer);
        off();
        const { code, signal } = msg;
        reject(new Error(`${handle.label} exited before ready (code ${code}, signal ${signal})`));
      }
    });
  });
}

/** SIGKILL every child this process started that is still alive (each by PID). */
export function killAllChildren() {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Machine-wide CPU seconds from /proc/stat: { user, system, softirq, steal, idle } (all CPUs summed). */
export function systemCpu() {
  const f = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return {
    user: (user + nice) / clkTck,
    system: (system + irq) / clkTck,
    softirq: softirq / clkTck,
    steal: (steal || 0) / clkTck,
    idle: (idle + iowait) / clkTck,
  };
}
