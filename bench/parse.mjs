// Validates rosters shaped to make a parser work hard: one mapping or sequence with tens
// of thousands of items, up to policy.limits.maxFileBytes (1 MiB). Prints the time of each.
// Run by hand: npm run bench:parse   (KEYS=40000 by default)
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../dist/config.js';
import { validateRoster } from '../dist/roster/validate.js';

const KEYS = Number(process.env.KEYS ?? 40000);
const HEADER = 'apiVersion: container-course.ziyotek.edu/v1\nkind: StudentSubmissions\nmetadata:\n  week: 1\n';
const ENTRY = '  - name: "Ada"\n    github_username: "ada"\n    container_image: "ghcr.io/ada/app:v1"\n';
const keys = (n, indent) => Array.from({ length: n }, (_, i) => `${indent}k${i}: ${i}\n`).join('');
const fill = (unit) => unit.repeat(Math.floor((1024 * 1024 - HEADER.length - 200) / unit.length));

const cases = {
  [`${KEYS}-key top-level mapping`]: `${HEADER}${keys(KEYS, '')}students: []\n`,
  [`${KEYS}-key mapping in an entry`]: `${HEADER}students:\n${ENTRY}${keys(KEYS, '    ')}`,
  '1 MiB mapping in an entry': `${HEADER}students:\n${ENTRY}${Array.from(
    { length: 60000 },
    (_, i) => `    key${i}: v\n`,
  )
    .join('')
    .slice(0, 1024 * 1024 - HEADER.length - 200)}`.replace(/\n[^\n]*$/, '\n'),
  '1 MiB sequence in an entry': `${HEADER}students:\n${ENTRY}    extra:\n${fill('      - 1\n')}`,
  '1 MiB flow sequence': `${HEADER}students:\n${ENTRY}    extra: [${fill('1,')}1]\n`,
};
const policy = loadConfig({ env: {} }).policy;
for (const [name, text] of Object.entries(cases)) {
  const bytes = Buffer.from(text);
  const start = performance.now();
  const report = validateRoster('week-01.yaml', bytes, policy);
  const ms = performance.now() - start;
  const codes = [...new Set(report.findings.map((f) => f.code))].join(', ');
  console.log(
    `${name}: ${(bytes.length / 1024).toFixed(0)} KiB, ${ms.toFixed(0)} ms, ${report.findings.length} findings (${codes})`,
  );
}
