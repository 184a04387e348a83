// Profile-only contestant "floor": the least a Node server can do per fan-out delivery, as
// a measuring stick for the paced fan-out target. It is the ws contestant's server (the
// `ws` package, the same JSON messages, echo and rooms) except that a broadcast builds its
// WebSocket frame once and hands that Buffer to each member's net.Socket with one
// `socket.write()`: no per-member framing, queueing, coalescing or bookkeeping, only Node's
// own write path and the system call.
//   node bench/profile/fanout-cpu.mjs floor 2000 100 4     (against ws and switchboard)
//   bash bench/run.sh --scenarios broadcast --contestants ws,floor,switchboard --reps 5
// Not in a run that does not name it.
import { start as startWs } from "../../../contestants/ws/server.mjs";

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

export async function start(options) {
  const server = await startWs(options);
  return {
    ...server,
    broadcast(room, event, data) {
      const members = server.members(room);
      if (members === undefined) return;
      const frame = textFrame(Buffer.from(JSON.stringify({ e: event, d: data })));
      // ws keeps its net.Socket as `_socket` (the package's own name; profile code only).
      for (const ws of members) ws._socket.write(frame);
    },
  };
}
