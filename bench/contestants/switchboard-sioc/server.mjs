// The same server as contestant "switchboard"; only the client driver differs.
export * from "../switchboard/server.mjs";
