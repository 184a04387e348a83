/**
 * A Socket.IO server (with one of `@socket.io/redis-adapter`'s adapters) and a Switchboard
 * server (with ours) on one redis-server, each with one client in room "r": the setup of
 * the Redis interop tests. Every socket gets `data.name` from its auth and joins "r".
 */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type ServerOptions as SocketIOOptions, Server as SocketIOServer } from "socket.io";
import { type Socket as ClientSocket, io as ioc } from "socket.io-client";
import type { AdapterConstructor } from "../../src/adapter/adapter.js";
import type { Server } from "../../src/server/index.js";
import { closeClients, connected, startServer, type TestServer } from "../support/harness.js";
import type { Broker } from "./brokers.js";
import { waitUntil } from "./cluster-harness.js";
import { redisClient, type TestRedisClient } from "./redis-fixture.js";

/** The two servers and their clients. */
export interface InteropPair {
  readonly sb: TestServer;
  readonly sio: SocketIOServer;
  readonly sioUrl: string;
  /** The Switchboard server's publishing client (for channel checks). */
  readonly sbPub: TestRedisClient;
  /** Client of the Switchboard server, in room "r". */
  readonly onSb: ClientSocket;
  /** Client of the Socket.IO server, in room "r". */
  readonly onSio: ClientSocket;
}

/** How each side builds its adapter from a pub and a sub client. */
export interface InteropAdapters {
  switchboard(pub: TestRedisClient, sub: TestRedisClient): AdapterConstructor;
  socketio(pub: TestRedisClient, sub: TestRedisClient): SocketIOOptions["adapter"];
}

/** Starts pairs on `broker` and tears each one down. */
export function interopPairs(getBroker: () => Broker, adapters: InteropAdapters) {
  let pair: InteropPair | undefined;
  const redisClients: TestRedisClient[] = [];
  const sioClients: ClientSocket[] = [];

  async function clients(): Promise<[TestRedisClient, TestRedisClient]> {
    const url = getBroker().url;
    const made = await Promise.all([redisClient(url), redisClient(url)]);
    redisClients.push(...made);
    return made;
  }

  return {
    /** Both servers, both subscribed, both clients connected. */
    async start(): Promise<InteropPair> {
      const [pub1, sub1] = await clients();
      const sb = await startServer({ adapter: adapters.switchboard(pub1, sub1) });
      const [pub2, sub2] = await clients();
      const http = createServer();
      const sio = new SocketIOServer(http, { adapter: adapters.socketio(pub2, sub2) });
      http.listen(0, "127.0.0.1");
      await once(http, "listening");
      const sioUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      for (const server of [sb.io, sio] as const) {
        (server as Server).on("connection", (socket) => {
          socket.data = { name: socket.handshake.auth.name as string };
          socket.join("r");
        });
      }
      // Socket.IO counts the subscribers of its request (or namespace) channel.
      await waitUntil(
        async () => (await sio.of("/").adapter.serverCount()) === 2,
        "both subscribed",
      );
      const onSb = sb.client("/", { auth: { name: "onSb" } });
      const onSio = ioc(sioUrl, { forceNew: true, reconnection: false, auth: { name: "onSio" } });
      sioClients.push(onSio);
      await Promise.all([connected(onSb), connected(onSio)]);
      pair = { sb, sio, sioUrl, sbPub: pub1, onSb, onSio };
      return pair;
    },
    /** Closes the pair's clients, servers and Redis clients. */
    async stop(): Promise<void> {
      closeClients();
      for (const client of sioClients.splice(0)) client.disconnect();
      await pair?.sb.close();
      await new Promise((resolve) => pair?.sio.close(resolve) ?? resolve(undefined));
      pair = undefined;
      // close, not destroy: Socket.IO's adapter unsubscribes without awaiting
      await Promise.all(redisClients.splice(0).map((c) => (c.isOpen ? c.close() : undefined)));
    },
  };
}
