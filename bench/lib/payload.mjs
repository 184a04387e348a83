// Message bodies used by every contestant, so all of them move the same bytes.

/** An echo payload whose JSON encoding is exactly `bytes` long (for bytes >= 60). */
export function echoPayload(bytes = 100) {
  const base = { id: 123456, user: "user-0042", room: "lobby", text: "" };
  const pad = Math.max(0, bytes - JSON.stringify(base).length);
  return { ...base, text: "x".repeat(pad) };
}

/** The body of broadcast message number `seq`: JSON of about `bytes` bytes. */
export function broadcastPayload(seq, bytes = 100) {
  const base = { s: seq, from: "server", text: "" };
  const pad = Math.max(0, bytes - JSON.stringify(base).length);
  return { ...base, text: "y".repeat(pad) };
}
