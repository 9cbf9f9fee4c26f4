/** A throwaway self-signed certificate from openssl, for the loopback servers tests start. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { requireProgram } from './processes.js';
import { tempDir } from './temp.js';

/** An EC key is made in milliseconds, where RSA takes most of a second; RS256 signing needs RSA. */
const KEYS = { ec: ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'], rsa: ['rsa:2048'] };

export function selfSignedCertificate(
  prefix: string,
  subject: string,
  extra: string[] = [],
  key: keyof typeof KEYS = 'ec',
) {
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
      ...KEYS[key],
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
