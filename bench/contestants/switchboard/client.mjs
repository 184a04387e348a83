// Switchboard's own client (switchboard/client, compiled to dist/ by `npm run build`)
// driving Switchboard's server. If dist/client/index.js is missing or fails to load,
// importing this module fails and the orchestrator skips the contestant with the reason.
import { io } from "../../../dist/client/index.js";
import { connectWith, SIO_ECHO_MODES, SIO_TRANSPORTS } from "../../lib/sio-driver.mjs";

/** Echo modes (first = default) and transports this driver supports. */
export const meta = { echoModes: SIO_ECHO_MODES, transports: SIO_TRANSPORTS };

/** Opens one connection with our client; resolves on 'connect'. */
export const connect = (opts) => connectWith(io, opts);
