// Child-process side of the orchestrator <-> child IPC protocol.
// Requests: { id, cmd, args } -> replies: { id, ok, result } | { id, ok: false, error }.
// Unsolicited messages (e.g. { type: 'ready' }, { type: 'mark' }) carry no id.

/**
 * Serve RPC handlers over the IPC channel. The process exits when the parent
 * goes away (IPC disconnect) or after maxLifetimeMs, whichever comes first, so
 * a child can never outlive a crashed or killed orchestrator for long.
 */
export function serveRpc(handlers, { maxLifetimeMs = 180_000, label = "child" } = {}) {
  process.on("message", async (msg) => {
    if (!msg || msg.id === undefined) return;
    const handler = handlers[msg.cmd];
    try {
      if (!handler) throw new Error(`${label}: unknown command ${msg.cmd}`);
      const result = await handler(msg.args ?? {});
      process.send({ id: msg.id, ok: true, result });
    } catch (err) {
      process.send({ id: msg.id, ok: false, error: String(err?.stack ?? err) });
    }
  });
  process.on("disconnect", () => process.exit(0));
  const lifetime = setTimeout(() => {
    console.error(`${label}: max lifetime ${maxLifetimeMs} ms exceeded, exiting`);
    process.exit(3);
  }, maxLifetimeMs);
  lifetime.unref();
}

export function send(msg) {
  if (process.connected) process.send(msg);
}
