import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface FakeCert {
  certPem: string;
  keyPem: string;
  /** Certificate and private key in one PEM file: what ClientCertificateCredential reads. */
  bundleFile: string;
  dir: string;
}

let cached: FakeCert | undefined;

/**
 * A self-signed certificate for 127.0.0.1, made once per process with openssl (node:crypto cannot
 * make X.509 certificates). The https fakes serve it; clients trust it through an agent's `ca`.
 */
export function fakeCert(): FakeCert {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-m365-cert-'));
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  const certPem = fs.readFileSync(cert, 'utf8');
  const keyPem = fs.readFileSync(key, 'utf8');
  const bundleFile = path.join(dir, 'bundle.pem');
  fs.writeFileSync(bundleFile, `${keyPem}\n${certPem}`);
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  cached = { certPem, keyPem, bundleFile, dir };
  return cached;
}
