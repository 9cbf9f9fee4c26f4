// Validates a generated 5 000-entry roster and prints how long it takes and the peak memory.
// Run by hand: npm run bench:validate   (target: under one second per validation)
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { loadConfig } from '../dist/config.js';
import { validateRoster } from '../dist/roster/validate.js';

const ENTRIES = Number(process.env.ENTRIES ?? 5000);
const RUNS = Number(process.env.RUNS ?? 7);

const lines = [
  'apiVersion: container-course.ziyotek.edu/v1',
  'kind: StudentSubmissions',
  'metadata:',
  '  week: 1',
  'students:',
];
for (let i = 0; i < ENTRIES; i++) {
  lines.push(
    `  # student ${i}`,
    `  - name: "Student Number ${i}"`,
    `    github_username: "student-${i}"`,
    `    container_image: "ghcr.io/student-${i}/container-course-student:v${i % 7}"`,
  );
  if (i % 3 === 0) lines.push('    port: 8080');
}
const dir = mkdtempSync(join(tmpdir(), 'classops-bench-'));
const file = join(dir, 'week-01.yaml');
writeFileSync(file, `${lines.join('\n')}\n`);
const bytes = readFileSync(file);

const policy = loadConfig({ env: {}, overrides: { policy: { limits: { maxFileBytes: 64 * 1024 * 1024 } } } }).policy;
const times = [];
let report;
for (let run = 0; run < RUNS + 1; run++) {
  const start = performance.now();
  report = validateRoster(file, bytes, policy);
  if (run > 0) times.push(performance.now() - start); // the first run warms up the JIT
}
times.sort((a, b) => a - b);
const valid = report.entries.filter((e) => e.entry !== undefined).length;
const median = times[Math.floor(times.length / 2)];

const cli = spawnSync(
  '/usr/bin/time',
  [
    '-f',
    '%e %M',
    process.execPath,
    new URL('../dist/cli.js', import.meta.url).pathname,
    'validate',
    '--format',
    'json',
    file,
  ],
  {
    encoding: 'utf8',
    env: { ...process.env, CLASSOPS_POLICY_LIMITS_MAX_FILE_BYTES: String(64 * 1024 * 1024) },
  },
);
const timed = cli.stderr?.trim().split('\n').pop()?.split(' ');

console.log(
  `roster: ${ENTRIES} entries, ${(bytes.length / 1024).toFixed(0)} KiB; ${valid} valid, ${report.findings.length} findings`,
);
console.log(
  `validate (in process, ${RUNS} runs): median ${median.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms`,
);
console.log(`peak memory of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
if (timed && timed.length === 2 && cli.error === undefined) {
  console.log(
    `classops validate as a command: ${Number(timed[0]).toFixed(2)} s wall, ${(Number(timed[1]) / 1024).toFixed(0)} MiB peak RSS (exit ${cli.status})`,
  );
} else {
  console.log('classops validate as a command: /usr/bin/time not available, skipped');
}
