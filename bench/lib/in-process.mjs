// For the profiling tools (bench/profile/): one contestant's server hosted in the calling
// process, so that its CPU, heap and V8 profile are the caller's, and the bench's load
// generator in a child, driving it over WebSocket on 127.0.0.1.
import { fileURLToPath } from "node:url";
import { contestantModule } from "./contestants.mjs";
import { startChild } from "./proc.mjs";

const LOADGEN = fileURLToPath(new URL("./loadgen.mjs", import.meta.url));

// As in the bench's children: every ws copy in this process takes its pure-JavaScript paths
// (ws reads these when it is first imported, which the contestant's server does below).
process.env.WS_NO_BUFFER_UTIL ??= "1";
process.env.WS_NO_UTF_8_VALIDATE ??= "1";

/** Starts contestant `name`'s server in this process on 127.0.0.1 (any free port). */
export async function hostServer(name) {
  const base = name.split(":")[0];
  const mod = await import(contestantModule(base, "server.mjs"));
  return mod.start({ host: "127.0.0.1", port: 0, transport: "websocket" });
}

/**
 * Starts a load-generator child with contestant `name`'s client for `port`; the echo mode is
 * the one after a colon, as in the bench's entries (`switchboard:emit`), else "ack".
 */
export function startLoadgen(name, port) {
  const [base, mode = "ack"] = name.split(":");
  return startChild(LOADGEN, [base, mode, String(port), "websocket"], {
    env: { WS_NO_BUFFER_UTIL: "1", WS_NO_UTF_8_VALIDATE: "1" },
    label: `loadgen:${name}`,
  });
}
