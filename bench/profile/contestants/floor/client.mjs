// Client driver for the profile-only "floor" contestant (see server.mjs): the ws
// contestant's client, unchanged.
export { connect, meta } from "../../../contestants/ws/client.mjs";
