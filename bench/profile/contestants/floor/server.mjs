// Profile-only contestant "floor": the least a Node server can do per fan-out delivery, as
// a measuring stick for the paced fan-out target. The ws contestant's server (the `ws`
// package, the same JSON messages) except that a broadcast builds its WebSocket frame once
// and hands the same Buffer to each member's net.Socket with one `socket.write()`: no
// per-member framing, queueing, coalescing or bookkeeping, only Node's own write path and
// the system call. `node bench/profile/fanout-cpu.mjs floor 2000 100 4` against `ws` and
// `switchboard`. Not in `npm run bench`.
import { once } from "node:events";
import { WebSocketServer } from "ws";

/** An unmasked final text frame (RFC 6455 §5.2) holding `payload`. */
function textFrame(payload) {
  const length = payload.length;
  const head = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x81;
  if (head === 2) frame[1] = length;
  else if (head === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, head);
  return frame;
}

export async function start({ host, port }) {
  const members = new Set();
  const wss = new WebSocketServer({ host, port, backlog: 1024, perMessageDeflate: false });
  wss.on("connection", (ws) => {
    ws.on("message", (raw) => {
      const msg = JSON.parse(raw.toString());
      if (msg.e !== "join") return;
      // One room is all the fan-out tools use; the ws socket's own net.Socket is kept.
      members.add(ws._socket);
      ws.send(JSON.stringify({ e: "joined", d: msg.d }));
    });
    ws.on("close", () => members.delete(ws._socket));
  });
  await once(wss, "listening");
  return {
    port: wss.address().port,
    broadcast(_room, event, data) {
      const frame = textFrame(Buffer.from(JSON.stringify({ e: event, d: data })));
      for (const socket of members) socket.write(frame);
    },
    connections: () => wss.clients.size,
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
