/**
 * Credentials pasted into a roster. The whole text is scanned, comments included:
 * a token in a comment is just as public once the pull request is open.
 */
import type { Finding } from './model.js';

const PATTERNS: ReadonlyArray<{ what: string; pattern: RegExp; revoke: string }> = [
  {
    what: 'a GitHub token',
    pattern: /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b/,
    revoke: 'Revoke it now at https://github.com/settings/tokens',
  },
  {
    what: 'a GitHub fine-grained token',
    pattern: /\bgithub_pat_[A-Za-z0-9_]{22,}\b/,
    revoke: 'Revoke it now at https://github.com/settings/tokens',
  },
  {
    what: 'an AWS access key',
    pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/,
    revoke: 'Deactivate it now in the AWS console (IAM → Security credentials)',
  },
  {
    what: 'a private key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/,
    revoke: 'Treat the key as compromised and replace it',
  },
];

export function findSecrets(file: string, text: string): Finding[] {
  const findings: Finding[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    for (const { what, pattern, revoke } of PATTERNS) {
      const match = pattern.exec(line);
      if (match === null) continue;
      findings.push({
        code: 'secret-in-file',
        severity: 'error',
        message: `This line contains what looks like ${what}. Anything in a pull request is public, including its history.`,
        hint: `${revoke}, then remove it from the file. A roster never needs credentials: the image must be public.`,
        file,
        line: i + 1,
        column: match.index + 1,
      });
    }
  });
  return findings;
}
