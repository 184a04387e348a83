// `npm run soak -- --minutes 10`: connection churn against one server process, printing the
// server's RSS over time. Not part of CI. Loopback only; bounded by --minutes.
import { fork } from "node:child_process";
import { io as ioc, type Socket } from "socket.io-client";

const args = process.argv.slice(2);
const minutes = Number(args[args.indexOf("--minutes") + 1] ?? 10) || 10;
const target = Number(args[args.indexOf("--clients") + 1] ?? 300) || 300;
const child = fork(new URL("./soak-server.ts", import.meta.url), [], {
  execArgv: ["--import", "tsx", "--expose-gc"],
});
type Stats = { rss: number; heap: number; sockets: number; events: number };
const port = await new Promise<number>((resolve) =>
  child.on(
    "message",
    (m: { type: string; port?: number }) => m.type === "ready" && resolve(m.port!),
  ),
);
const stats = (): Promise<Stats> =>
  new Promise((resolve) => {
    const onMessage = (m: { type: string } & Stats) => {
      if (m.type !== "stats") return;
      child.off("message", onMessage);
      resolve(m);
    };
    child.on("message", onMessage);
    child.send({ type: "stats" });
  });

const clients = new Set<Socket>();
let opened = 0;
let cut = 0;
function open(): void {
  const socket = ioc(`http://127.0.0.1:${port}`, {
    forceNew: true,
    transports: ["websocket"],
    reconnection: false,
  });
  opened++;
  clients.add(socket);
  socket.on("connect", () => socket.emit("work", opened, () => {}));
  socket.on("disconnect", () => clients.delete(socket));
}
function churn(): void {
  // Close 5 % of the clients (half politely, half by cutting the TCP connection), then top up.
  for (const socket of [...clients].slice(0, Math.ceil(clients.size * 0.05))) {
    if (Math.random() < 0.5) socket.disconnect();
    else {
      (socket.io.engine.transport as unknown as { ws?: { terminate(): void } }).ws?.terminate();
      cut++;
    }
    clients.delete(socket);
  }
  while (clients.size < target) open();
  for (const socket of clients) if (socket.connected) socket.emit("work", 1, () => {});
}

const start = Date.now();
const end = start + minutes * 60_000;
const baseline = await stats();
const mb = (n: number) => (n / 1048576).toFixed(1);
console.log(
  `soak: ${minutes} min, ${target} clients with 5 % churn every 200 ms; server baseline RSS ${mb(baseline.rss)} MB`,
);
console.log("elapsed_s\trss_mb\theap_mb\tsockets\topened\tcut\tevents");
const churner = setInterval(churn, 200);
const samples: Stats[] = [];
while (Date.now() < end) {
  await new Promise((r) => setTimeout(r, Math.min(10_000, end - Date.now())));
  const s = await stats();
  samples.push(s);
  const elapsed = Math.round((Date.now() - start) / 1000);
  console.log(
    `${elapsed}\t${mb(s.rss)}\t${mb(s.heap)}\t${s.sockets}\t${opened}\t${cut}\t${s.events}`,
  );
}
clearInterval(churner);
for (const socket of clients) socket.disconnect();
const last = samples.at(-1) ?? baseline;
const mid = samples[Math.floor(samples.length / 2)] ?? baseline;
console.log(
  `soak done: ${opened} connections opened, ${cut} cut; RSS ${mb(baseline.rss)} -> ${mb(mid.rss)} (mid) -> ${mb(last.rss)} MB (end); heap ${mb(mid.heap)} -> ${mb(last.heap)} MB`,
);
child.send({ type: "stop" });
