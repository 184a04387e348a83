/**
 * The client's TLS options for Node (`https:` / `wss:`), and picking them out of the
 * options. A module of its own: only Node code reads it at run time (the browser bundles
 * leave it out with the Node code, see `isNode` in transport.ts).
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

const TLS_KEYS = [
  "ca",
  "cert",
  "key",
  "passphrase",
  "pfx",
  "rejectUnauthorized",
  "ciphers",
] as const;

/** The TLS options set in `opts`, or undefined when none is. */
export function tlsOptionsOf(opts: NodeTlsOptions): NodeTlsOptions | undefined {
  let tls: Record<string, unknown> | undefined;
  for (const key of TLS_KEYS) {
    if (opts[key] === undefined) continue;
    tls ??= {};
    tls[key] = opts[key];
  }
  return tls as NodeTlsOptions | undefined;
}
