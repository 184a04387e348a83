// Client driver for Socket.IO: socket.io-client, one Engine.IO session per client,
// websocket only unless a scenario asks for polling. Echo modes 'ack' and 'emit'.
import { io } from "socket.io-client";
import { connectWith, SIO_ECHO_MODES, SIO_TRANSPORTS } from "../../lib/sio-driver.mjs";

/** Echo modes (first = default) and transports this driver supports. */
export const meta = { echoModes: SIO_ECHO_MODES, transports: SIO_TRANSPORTS };

/** Opens one socket.io-client connection; resolves on 'connect'. */
export const connect = (opts) => connectWith(io, opts);
