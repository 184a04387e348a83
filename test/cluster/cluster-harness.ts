/**
 * Several Switchboard servers in this process, joined through one adapter fixture (memory,
 * Redis or NATS), each with official `socket.io-client` clients; plus polling waits that
 * fail loudly after a timeout.
 */
import type { Socket as ClientSocket } from "socket.io-client";
import type { AdapterConstructor } from "../../src/adapter/adapter.js";
import type { ClusterAdapterOptions } from "../../src/adapter/cluster-adapter.js";
import type { AdapterError, Server, ServerOptions } from "../../src/server/index.js";
import { connected, startServer, type TestServer } from "../support/harness.js";

/** One node's adapter and what a test may do to its broker connection. */
export interface NodeAdapter {
  readonly adapter: AdapterConstructor;
  /** Cuts the node off the broker with no goodbye, as a crash or a partition would. */
  kill(): Promise<void>;
  /** Releases the node's broker connections. */
  close(): Promise<void>;
}

/** A broker and how to build nodes on it. */
export interface AdapterFixture {
  /** Builds one more node's adapter. */
  node(opts: ClusterAdapterOptions): Promise<NodeAdapter>;
  /** Stops the broker (every node loses it). */
  stopBroker(): Promise<void>;
  /** Starts the broker again, on the same address. */
  startBroker(): Promise<void>;
  /** Stops everything the fixture started. */
  close(): Promise<void>;
}

/** A server node of the test cluster. */
export interface ClusterNode {
  readonly name: string;
  readonly io: Server;
  readonly server: TestServer;
  /** Cross-node errors reported to this node's `onError`. */
  readonly errors: AdapterError[];
  /** Cuts the node off the cluster without a goodbye. */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/** Short timings so that liveness and timeouts are observable within a test. */
export const TIMING = { requestsTimeout: 1000, heartbeatInterval: 150, heartbeatTimeout: 1500 };

/**
 * Starts one node per name. Every socket that connects gets `data.name` and joins the rooms
 * in its `auth` (`{ name, rooms }`).
 */
export async function startCluster(
  fixture: AdapterFixture,
  names: readonly string[] = ["n0", "n1", "n2"],
  timing: ClusterAdapterOptions = TIMING,
  serverOptions: ServerOptions = {},
): Promise<ClusterNode[]> {
  const nodes = await Promise.all(
    names.map((name) => startNode(fixture, name, timing, serverOptions)),
  );
  await waitForServerCount(nodes, nodes.length);
  return nodes;
}

async function startNode(
  fixture: AdapterFixture,
  name: string,
  timing: ClusterAdapterOptions,
  serverOptions: ServerOptions,
): Promise<ClusterNode> {
  const errors: AdapterError[] = [];
  const nodeAdapter = await fixture.node({ ...timing, onError: (err) => errors.push(err) });
  const server = await startServer({ ...serverOptions, adapter: nodeAdapter.adapter });
  server.io.on("connection", (socket) => {
    const auth = socket.handshake.auth as { name?: string; rooms?: string[] };
    socket.data = { name: auth.name };
    socket.join(auth.rooms ?? []);
  });
  let isClosed = false;
  return {
    name,
    io: server.io,
    server,
    errors,
    kill: () => nodeAdapter.kill(),
    close: async () => {
      if (isClosed) return;
      isClosed = true;
      await server.close();
      await nodeAdapter.close();
    },
  };
}

/** Connects a client named `name` to a node, in `rooms`, and waits until it is connected. */
export async function joinClient(
  node: ClusterNode,
  name: string,
  rooms: readonly string[] = [],
  nsp = "/",
): Promise<ClientSocket> {
  const client = node.server.client(nsp, { auth: { name, rooms } });
  await connected(client);
  return client;
}

/** Resolves once `predicate` holds; rejects after `ms` naming what was awaited. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  ms = 3000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until every node counts `count` servers in namespace `nsp`. */
export async function waitForServerCount(
  nodes: readonly ClusterNode[],
  count: number,
  nsp = "/",
  ms = 3000,
): Promise<void> {
  await waitUntil(
    async () => {
      const counts = await Promise.all(nodes.map((n) => n.io.of(nsp).adapter.serverCount()));
      return counts.every((c) => c === count);
    },
    `every node counts ${count} servers in ${nsp}`,
    ms,
  );
}

/**
 * The names of the clients that received `ev` while `action` ran. A marker broadcast from
 * `markerFrom` afterwards, through the same broker connection, tells when every earlier
 * message has arrived.
 */
export async function whoGets(
  clients: Record<string, ClientSocket>,
  ev: string,
  markerFrom: ClusterNode,
  action: () => void,
): Promise<string[]> {
  const got: string[] = [];
  const listeners: [ClientSocket, () => void][] = [];
  for (const [name, client] of Object.entries(clients)) {
    const listener = () => got.push(name);
    client.on(ev, listener);
    listeners.push([client, listener]);
  }
  const markers = Object.values(clients).map(
    (client) => new Promise<void>((resolve) => client.once("marker", () => resolve())),
  );
  action();
  markerFrom.io.emit("marker");
  await withTimeout(Promise.all(markers), 3000, `the marker after "${ev}"`);
  for (const [client, listener] of listeners) client.off(ev, listener);
  return got.sort();
}

/** Rejects when `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
