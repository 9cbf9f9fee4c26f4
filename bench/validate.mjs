// Validates a generated 5 000-entry roster and prints how long it takes and the peak memory:
// in process, and `classops validate` as a whole command (median of RUNS runs: wall, CPU, peak RSS).
// Run by hand: npm run bench:validate   (goal for the command: < 0.6 s, < 150 MiB)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CLI, timedNode } from './timed-node.mjs';
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
const middle = times[Math.floor(times.length / 2)];

const median = (values) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
const commands = Array.from({ length: RUNS }, () =>
  timedNode([CLI, 'validate', '--format', 'json', file], {
    env: { ...process.env, CLASSOPS_POLICY_LIMITS_MAX_FILE_BYTES: String(64 * 1024 * 1024) },
  }),
);
rmSync(dir, { recursive: true, force: true });

console.log(
  `roster: ${ENTRIES} entries, ${(bytes.length / 1024).toFixed(0)} KiB; ${valid} valid, ${report.findings.length} findings`,
);
console.log(
  `validate (in process, ${RUNS} runs): median ${middle.toFixed(1)} ms, min ${times[0].toFixed(1)} ms, max ${times[times.length - 1].toFixed(1)} ms`,
);
console.log(`peak memory of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
const wall = median(commands.map((c) => c.wall));
const mib = median(commands.map((c) => c.mib));
console.log(
  `classops validate as a command (median of ${RUNS}): ${wall.toFixed(2)} s wall, ${median(commands.map((c) => c.cpu)).toFixed(2)} s CPU, ${mib.toFixed(0)} MiB peak RSS (exit ${commands[0].status}); goal < 0.6 s, < 150 MiB: ${wall < 0.6 && mib < 150 ? 'met' : 'NOT met'}`,
);
