// Switchboard's server driven by the official socket.io-client, exactly like the
// socketio contestant: this column measures our server alone.
export * from "../socketio/client.mjs";
