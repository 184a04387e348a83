/**
 * A self-signed certificate for `localhost` and 127.0.0.1, made with openssl for the TLS
 * tests, in a temporary folder that `remove()` deletes. Null when openssl is missing.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The certificate and key (PEM), their files, and the teardown. */
export interface TestCertificate {
  certFile: string;
  cert: Buffer;
  key: Buffer;
  remove(): void;
}

/** Makes the certificate; null (the caller skips) when openssl is not there. */
export function makeTestCertificate(): TestCertificate | null {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-cert-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
        ...["-nodes", "-days", "1", "-subj", "/CN=localhost"],
        ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        ...["-keyout", keyFile, "-out", certFile],
      ],
      { stdio: "ignore" },
    );
  } catch {
    remove();
    return null;
  }
  return { certFile, cert: readFileSync(certFile), key: readFileSync(keyFile), remove };
}
