/** A throwaway self-signed certificate from openssl, for the loopback servers tests start. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { requireProgram } from './processes.js';
import { tempDir } from './temp.js';

export function selfSignedCertificate(prefix: string, subject: string, extra: string[] = []) {
  requireProgram('openssl', 'openssl');
  const dir = tempDir(prefix);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      subject,
      ...extra,
    ],
    { stdio: 'ignore' },
  );
  return { dir, certFile, keyFile };
}
