/**
 * The client's connection options for Node (TLS for `https:` / `wss:`, an HTTP agent), and
 * picking them out of the options. A module of its own: only Node code reads it at run time
 * (the browser bundles leave it out with the Node code, see `isNode` in transport.ts).
 */
/** PEM text or bytes, or a list of them, as `tls.connect` takes them. */
export type TlsMaterial = string | Uint8Array | readonly (string | Uint8Array)[];

/**
 * TLS options for `https:` / `wss:` servers, Node only (browsers use their own trust store
 * and ignore them), passed to `tls.connect` as socket.io-client passes them. Unset, Node's
 * defaults apply: its certificate authorities, and certificates checked.
 */
export interface NodeTlsOptions {
  /** Certificate authorities to trust in place of Node's (e.g. a company CA). */
  ca?: TlsMaterial;
  /** A client certificate, for servers that ask for one (with `key`). */
  cert?: TlsMaterial;
  /** The client certificate's private key. */
  key?: TlsMaterial;
  /** The passphrase of `key` or `pfx`. */
  passphrase?: string;
  /** A PKCS#12 bundle of key and certificate, in place of `key` and `cert`. */
  pfx?: TlsMaterial;
  /** `false` accepts any server certificate: for tests only. Default true. */
  rejectUnauthorized?: boolean;
  /** OpenSSL cipher list. */
  ciphers?: string;
}

/**
 * An HTTP agent of Node's: an `http.Agent` / `https.Agent`, or one built on them such as a
 * proxy agent (`https-proxy-agent`). Typed by what every such agent has, so that code built
 * for browsers needs no Node types.
 */
export interface NodeHttpAgent {
  /** Closes the agent's connections (`http.Agent.destroy`). */
  destroy(): void;
}

/** What the Node client connects with: the TLS options, and an agent. */
export interface NodeConnectOptions extends NodeTlsOptions {
  /**
   * Node only: the agent the WebSocket upgrade and the polling requests go through, e.g. a
   * proxy agent, as socket.io-client takes it. Unset, the WebSocket connects directly (its
   * own TCP or TLS socket) and polling uses Node's global agent; `false`, polling opens a
   * connection per request (Node's `agent: false`).
   */
  agent?: NodeHttpAgent | false;
}

const NODE_KEYS = [
  "agent",
  "ca",
  "cert",
  "key",
  "passphrase",
  "pfx",
  "rejectUnauthorized",
  "ciphers",
] as const;

/** The connection options set in `opts`, or undefined when none is. */
export function nodeOptionsOf(opts: NodeConnectOptions): NodeConnectOptions | undefined {
  let picked: Record<string, unknown> | undefined;
  for (const key of NODE_KEYS) {
    if (opts[key] === undefined) continue;
    picked ??= {};
    picked[key] = opts[key];
  }
  return picked as NodeConnectOptions | undefined;
}
