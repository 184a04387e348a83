/**
 * Real brokers for the cluster tests: a `redis-server` or `nats-server` child process on a
 * random loopback port, which a test may stop and start again on the same port. Every
 * process started here is killed when the test process exits, whatever happened.
 *
 * A missing binary skips the suites that need it, with the reason printed; with `CI=true`
 * it is an error instead.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A broker process on 127.0.0.1. */
export interface Broker {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` or `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the process; the port stays reserved for `start()`. */
  stop(): Promise<void>;
  /** Starts the process again on the same port (no-op when running). */
  start(): Promise<void>;
  /** Stops the process for good. */
  close(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/**
 * Why the suites needing `binary` must be skipped, or undefined when it is installed (or
 * when `CI=true`: then the suites run and fail loudly).
 */
export function missingBinary(binary: string): string | undefined {
  const found = spawnSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" });
  if (found.status === 0 || process.env.CI === "true") return undefined;
  const reason = `${binary} not found on PATH (Debian package ${binary}); set CI=true to fail instead`;
  console.log(`# skipping: ${reason}`);
  return reason;
}

/** Starts `redis-server` without persistence on a random loopback port. */
export function startRedisServer(): Promise<Broker> {
  return startBroker("redis", (port) => [
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  ]);
}

/**
 * Starts `nats-server` on a random loopback port; with `jetstream`, JetStream is on, its
 * file store in a temporary directory that outlives restarts and is removed by `close()`.
 */
export async function startNatsServer(opts: { jetstream?: boolean } = {}): Promise<Broker> {
  if (opts.jetstream !== true) {
    return startBroker("nats", (port) => ["nats-server", ["-a", "127.0.0.1", "-p", String(port)]]);
  }
  const dir = await mkdtemp(join(tmpdir(), "switchboard-js-"));
  const broker = await startBroker("nats", (port) => [
    "nats-server",
    ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir],
  ]);
  return {
    ...broker,
    close: async () => {
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startBroker(
  scheme: string,
  command: (port: number) => [string, string[]],
): Promise<Broker> {
  const port = await freePort();
  const [binary, args] = command(port);
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    child = spawn(binary, args, { stdio: "ignore" });
    running.add(child);
    const spawned = child;
    spawned.once("exit", () => running.delete(spawned));
    await waitForPort(port, spawned, binary);
  };
  const stop = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (current === undefined || current.exitCode !== null) return;
    current.kill("SIGKILL");
    await once(current, "exit");
  };
  await start();
  return { port, url: `${scheme}://127.0.0.1:${port}`, start, stop, close: stop };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once the port accepts connections; rejects if the process exits or after 5 s. */
async function waitForPort(port: number, child: ChildProcess, binary: string): Promise<void> {
  const deadline = Date.now() + 5000;
  let failure: string | undefined;
  child.once("exit", (code) => {
    failure = `${binary} exited (code ${code}) before listening on port ${port}`;
  });
  child.once("error", (err) => {
    failure = `${binary} could not start: ${err.message}`;
  });
  for (;;) {
    if (failure !== undefined) throw new Error(failure);
    if (await canConnect(port)) return;
    if (Date.now() > deadline)
      throw new Error(`${binary} did not listen on port ${port} within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
