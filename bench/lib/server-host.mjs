// Child process that hosts one contestant's server.
//   node --expose-gc lib/server-host.mjs <contestant> [transport]
// Loads contestants/<contestant>/server.mjs (or a profile-only one's), starts it on
// 127.0.0.1 (port 0 = any free port), reports { type: 'ready', port }, then serves
// orchestrator commands over IPC: broadcast, gc, mem, cpu, connections, stop.
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { send, serveRpc } from "./child.mjs";
import { nowMs } from "./clock.mjs";
import { contestantModule } from "./contestants.mjs";
import { broadcastPayload } from "./payload.mjs";

const [name, transport = "websocket"] = process.argv.slice(2);
// Loopback only: the benchmark never listens on or connects to anything else.
const host = "127.0.0.1";
const mod = await import(contestantModule(name, "server.mjs"));
const server = await mod.start({ host, port: 0, transport });

serveRpc(
  {
    /**
     * Broadcast `count` messages of ~`bytes` bytes to `room`. By default the
     * loop yields to the event loop after every message (yieldEvery = 1), as a
     * server relaying separate events would; yieldEvery = 0 sends all of them
     * in one synchronous burst.
     */
    async broadcast({ room, count, bytes = 100, event = "bcast", yieldEvery = 1 }) {
      const bodies = Array.from({ length: count }, (_, i) => broadcastPayload(i, bytes));
      const t0 = nowMs();
      for (let i = 0; i < count; i++) {
        server.broadcast(room, event, bodies[i]);
        if (yieldEvery > 0 && (i + 1) % yieldEvery === 0) await yieldToLoop();
      }
      return { t0, t1: nowMs() };
    },
    /** Force full GCs (needs --expose-gc) and return process.memoryUsage(). */
    async gc() {
      for (let i = 0; i < 3; i++) {
        globalThis.gc?.();
        await new Promise((r) => setTimeout(r, 30));
      }
      return { ...process.memoryUsage(), gcExposed: typeof globalThis.gc === "function" };
    },
    mem: () => process.memoryUsage(),
    /** process.cpuUsage() (microseconds): finer than /proc's 10 ms clock ticks. */
    cpu: () => process.cpuUsage(),
    connections: () => server.connections(),
    async stop() {
      await Promise.race([server.close(), new Promise((r) => setTimeout(r, 2000))]);
      setImmediate(() => process.exit(0));
      return true;
    },
  },
  { maxLifetimeMs: Number(process.env.BENCH_CHILD_MAX_MS ?? 240_000), label: `server:${name}` },
);

send({ type: "ready", port: server.port, pid: process.pid });
