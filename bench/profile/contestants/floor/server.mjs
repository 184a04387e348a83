// Profile-only contestant "floor": the least a Node server can do per fan-out delivery, as
// a measuring stick for the paced fan-out target. It is the ws contestant's server (the
// `ws` package, the same JSON messages, echo and rooms) except that a broadcast builds its
// WebSocket frame once and hands that Buffer to each member's net.Socket with one
// `socket.write()`: no per-member framing, queueing, coalescing or bookkeeping, only Node's
// own write path and the system call.
//   node bench/profile/fanout-cpu.mjs floor 2000 100 4     (against ws and switchboard)
//   bash bench/run.sh --scenarios broadcast --contestants ws,floor,switchboard --reps 5
// Not in a run that does not name it.
import { Sender } from "ws";
import { start as startWs } from "../../../contestants/ws/server.mjs";

export async function start(options) {
  const server = await startWs(options);
  return {
    ...server,
    broadcast(room, event, data) {
      const members = server.members(room);
      if (members === undefined) return;
      // ws's own framing (RFC 6455 §5.2: final, text, unmasked), header and payload joined once.
      const payload = Buffer.from(JSON.stringify({ e: event, d: data }));
      const frame = Buffer.concat(
        Sender.frame(payload, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }),
      );
      // ws keeps its net.Socket as `_socket` (the package's own name; profile code only).
      for (const ws of members) ws._socket.write(frame);
    },
  };
}
