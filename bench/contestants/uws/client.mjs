// uWebSockets.js is server-only; its clients speak the raw-ws JSON protocol.
export * from "../ws/client.mjs";
