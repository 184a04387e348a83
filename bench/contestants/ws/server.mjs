// Contestant "ws": raw ws server, JSON text frames {"e": event, "d": data}
// routed by hand. Rooms are a Map<room, Set<WebSocket>>.
import { once } from "node:events";
import { WebSocketServer } from "ws";

export async function start({ host, port }) {
  const rooms = new Map();
  const wss = new WebSocketServer({ host, port, backlog: 1024, perMessageDeflate: false });

  wss.on("connection", (ws) => {
    let joined = null;
    ws.on("message", (raw, isBinary) => {
      let msg;
      try {
        msg = JSON.parse(isBinary ? raw : raw.toString());
      } catch {
        ws.close(1007, "bad json");
        return;
      }
      switch (msg.e) {
        case "echo":
          ws.send(JSON.stringify({ e: "echo", d: msg.d }));
          break;
        case "join": {
          joinRoom(rooms, msg.d, ws);
          joined ??= [];
          joined.push(msg.d);
          ws.send(JSON.stringify({ e: "joined", d: msg.d }));
          break;
        }
        default:
          break;
      }
    });
    ws.on("close", () => {
      if (joined) leaveRooms(rooms, joined, ws);
    });
  });
  await once(wss, "listening");

  return {
    port: wss.address().port,
    broadcast(room, event, data) {
      const members = rooms.get(room);
      if (!members) return;
      // Encode once, send the same bytes to every member as a text frame.
      const frame = Buffer.from(JSON.stringify({ e: event, d: data }));
      for (const ws of members) ws.send(frame, { binary: false });
    },
    connections: () => wss.clients.size,
    /** The room's members (for the profile-only `floor` contestant, which reuses this server). */
    members: (room) => rooms.get(room),
    close: () =>
      new Promise((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}

/** Adds `ws` to `room`, making the room's set on its first member. */
function joinRoom(rooms, room, ws) {
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(ws);
}

/** Takes `ws` out of each of `joined`, dropping the rooms it leaves empty. */
function leaveRooms(rooms, joined, ws) {
  for (const room of joined) {
    const members = rooms.get(room);
    members?.delete(ws);
    if (members?.size === 0) rooms.delete(room);
  }
}
