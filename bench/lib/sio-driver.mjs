// Load-generator driver for any client with socket.io-client's API: `io(url, opts)`,
// `socket.emit(event, data, ack?)`, `socket.on(event, fn)`, `socket.disconnect()`.
// Used by contestants socketio and switchboard-sioc (with socket.io-client) and
// switchboard (with our own client).
// Modes: 'ack'  -> emit('echo', data, ackFn), the reply arrives through the ack;
//        'emit' -> emit('echo', data), the reply arrives as an 'echo' event.

/** Echo modes of every socket.io-style driver; the first is the default. */
export const SIO_ECHO_MODES = ["ack", "emit"];

/** Transports a socket.io-style driver can be asked to use. */
export const SIO_TRANSPORTS = ["websocket", "polling"];

const noop = () => {};

class Conn {
  #socket;
  #useAck;
  #echoFn = noop;
  #bcastFn = noop;
  // One stable reply function, reused for every round trip.
  #onReply = (data) => this.#echoFn(data);

  constructor(socket, mode) {
    this.#socket = socket;
    this.#useAck = mode !== "emit";
    if (!this.#useAck) socket.on("echo", this.#onReply);
    socket.on("bcast", (data) => this.#bcastFn(data));
  }

  sendEcho(data) {
    if (this.#useAck) this.#socket.emit("echo", data, this.#onReply);
    else this.#socket.emit("echo", data);
  }

  onEchoReply(fn) {
    this.#echoFn = fn;
  }

  join(room) {
    return new Promise((resolve) => this.#socket.emit("join", room, resolve));
  }

  onBroadcast(fn) {
    this.#bcastFn = fn;
  }

  close() {
    this.#socket.disconnect();
  }
}

/**
 * Opens one connection with `io` and resolves once the Socket.IO 'connect' event fired.
 * `forceNew: true` gives every client its own Engine.IO session (without it, io() would
 * multiplex every client of the process over one connection); `reconnection: false` so
 * nothing reconnects after teardown.
 */
export function connectWith(io, { host, port, mode, transport = "websocket" }) {
  const socket = io(`http://${host}:${port}`, {
    transports: [transport],
    forceNew: true,
    reconnection: false,
    timeout: 15_000,
  });
  return new Promise((resolve, reject) => {
    const onConnect = () => {
      socket.off("connect_error", onError);
      resolve(new Conn(socket, mode));
    };
    const onError = (err) => {
      socket.off("connect", onConnect);
      socket.disconnect();
      reject(err);
    };
    socket.once("connect", onConnect);
    socket.once("connect_error", onError);
  });
}
