/**
 * The parent side of test/support/chaos-server.ts: forks a Switchboard server process on a
 * fixed port (so clients reconnect to its successor), tells it to emit numbered messages,
 * records its handler runs, and stops it gracefully or kills it.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createServer } from "node:net";
import { waitFor } from "./harness.js";
import type { Tally } from "./tally.js";

/** A running server process. */
export interface ChaosNode {
  readonly child: ChildProcess;
  /** Emits sequence numbers [from, to) to each client's room (`user:<key>`). */
  emit(from: number, to: number, clients: number): void;
  /** A graceful stop: `io.close()` (sessions persisted), then exit. */
  stop(): Promise<void>;
  /** SIGKILL: nothing is persisted on the way out. */
  kill(): Promise<void>;
}

/** Options of {@link startChaosNode}. */
export interface ChaosNodeOptions {
  readonly port: number;
  readonly redisUrl: string;
  /** Handler runs of client `key` go to `handled[key]`. */
  readonly handled: readonly Tally[];
  /** Extra environment (CHAOS_ADAPTER, CHAOS_RECOVERY). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * A free loopback port below Linux's ephemeral range (32768+), so no outgoing connection
 * takes it while the server is being replaced.
 */
export async function reservePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const isFree = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (isFree) return port;
  }
}

/** Forks the server and resolves once it listens. */
export async function startChaosNode(opts: ChaosNodeOptions): Promise<ChaosNode> {
  const child = fork(new URL("./chaos-server.ts", import.meta.url), {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, ...opts.env, PORT: String(opts.port), REDIS_URL: opts.redisUrl },
  });
  child.on("message", (m: { type: string; runs?: [number, number][] }) => {
    if (m.type === "handled") for (const [key, seq] of m.runs!) opts.handled[key]!.add(seq);
  });
  await waitFor(child as never, "message", 15_000); // "ready"
  const exited = (): Promise<unknown> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : waitFor(child as never, "exit", 10_000);
  return {
    child,
    emit: (from, to, clients) => child.send({ type: "emit", from, to, clients }),
    stop: async () => {
      const done = exited();
      child.send({ type: "stop" });
      await done;
    },
    kill: async () => {
      const done = exited();
      child.kill("SIGKILL");
      await done;
    },
  };
}
