/**
 * A tiny loopback TCP balancer for cluster tests: every new connection goes to the current
 * target port, which a test switches at will; `cut()` drops every open connection without
 * a goodbye, as a network loss or a balancer failover would. Clients then reconnect through
 * the proxy and land on whichever node is the target.
 */
import { once } from "node:events";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";

/** A running balancer. */
export interface SwitchProxy {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Sends new connections to this port from now on. */
  target(port: number): void;
  /** Destroys every open connection, both sides. */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a balancer on 127.0.0.1 forwarding to `targetPort`. */
export async function startSwitchProxy(targetPort: number): Promise<SwitchProxy> {
  let target = targetPort;
  const open = new Set<Socket>();
  const server = createServer((downstream) => {
    const upstream = connect(target, "127.0.0.1");
    for (const socket of [downstream, upstream]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => {}); // the other side is destroyed below
    }
    downstream.pipe(upstream);
    upstream.pipe(downstream);
    downstream.on("close", () => upstream.destroy());
    upstream.on("close", () => downstream.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const cut = (): void => {
    for (const socket of open) socket.destroy();
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    target: (next) => {
      target = next;
    },
    cut,
    close: async () => {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
