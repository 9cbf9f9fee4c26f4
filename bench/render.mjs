// Renders 10 000 students and prints the time, peak memory, and whether two runs are byte-identical.
// The YAML is turned into bytes and hashed document by document as `render --out -` writes it, never held whole.
// Then `classops render --out -` on the same roster as a whole command, once: what a user waits for.
// Run by hand: npm run bench:render   (goal: render + YAML < 0.5 s, peak RSS < 300 MiB)
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../dist/config.js';
import { validateRoster } from '../dist/roster/validate.js';
import { interpretReports } from '../dist/pipeline/interpret.js';
import { manifestDocuments, weekObjects } from '../dist/render/tree.js';
import { CLI, timedNode } from './timed-node.mjs';

const STUDENTS = Number(process.env.STUDENTS ?? 10000);
const RUNS = Number(process.env.RUNS ?? 5);
const lines = [
  'apiVersion: container-course.ziyotek.edu/v1',
  'kind: StudentSubmissions',
  'metadata:',
  '  week: 1',
  'students:',
];
for (let i = 0; i < STUDENTS; i++) {
  lines.push(
    `  - name: "Student ${i}"`,
    `    github_username: "student-${i}"`,
    `    container_image: "ghcr.io/student-${i}/app:v${i % 5}"`,
    `    port: ${5000 + (i % 3)}`,
  );
}
const config = loadConfig({
  env: {},
  overrides: { policy: { limits: { maxFileBytes: 64 << 20, maxEntries: STUDENTS } } },
});
const roster = `${lines.join('\n')}\n`;
const report = validateRoster('week-01.yaml', Buffer.from(roster), config.policy);
if (!report.complete) throw new Error(`the bench roster is held back: ${report.findings[0]?.message}`);
const verdicts = new Map(
  report.entries.map((e, i) => [
    e.entry.containerImage,
    {
      kind: 'pullable',
      digest: `sha256:${createHash('sha256').update(String(i)).digest('hex')}`,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: ['linux/amd64'],
    },
  ]),
);

const setupPeak = process.resourceUsage().maxRSS / 1024;
const renderTimes = [];
const serializeTimes = [];
const hashes = new Set();
let objects = 0;
let firstPeak = 0;
for (let run = 0; run <= RUNS; run++) {
  const t0 = performance.now();
  const week = interpretReports([report], verdicts, config, { revision: 'bench', lastGood: new Map() }).desired
    .weeks[0];
  const t1 = performance.now();
  const hash = createHash('sha256');
  let hashing = 0; // not the serializer's time: the output's consumer
  for (const document of manifestDocuments([week])) {
    // The bytes a write would send: counted as serializing, so text built in pieces pays for joining them.
    const bytes = Buffer.from(document, 'utf8');
    const h0 = performance.now();
    hash.update(bytes);
    hashing += performance.now() - h0;
  }
  const t2 = performance.now() - hashing;
  hashes.add(hash.digest('hex'));
  objects = weekObjects(week).length;
  if (run === 0) firstPeak = process.resourceUsage().maxRSS / 1024;
  if (run > 0) {
    renderTimes.push(t1 - t0);
    serializeTimes.push(t2 - t1);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`students: ${STUDENTS}, objects per render: ${objects}`);
console.log(`render (objects in memory): median ${median(renderTimes).toFixed(0)} ms over ${RUNS} runs`);
console.log(`serialize to YAML: median ${median(serializeTimes).toFixed(0)} ms`);
console.log(
  `render + serialize: median ${median(renderTimes.map((t, i) => t + serializeTimes[i])).toFixed(0)} ms (goal < 500 ms)`,
);
console.log(
  `peak memory (process RSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (goal < 300 MiB); after parsing the roster, before rendering: ${setupPeak.toFixed(0)} MiB; after the first render: ${firstPeak.toFixed(0)} MiB`,
);
// Later renders raise the peak by what V8 leaves uncollected between them, not by what any keeps.
console.log(
  `load average: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `byte-identical across ${RUNS + 1} runs: ${hashes.size === 1 ? 'yes' : `NO (${hashes.size} different outputs)`}`,
);

// The whole command, as a user runs it once (validation and writing the 62 MB stream included).
const dir = mkdtempSync(join(tmpdir(), 'classops-bench-render-'));
writeFileSync(join(dir, 'week-01.yaml'), roster);
const cli = timedNode([CLI, 'render', 'week-01.yaml', '--out', '-'], {
  cwd: dir,
  maxBuffer: 256 << 20,
  env: {
    ...process.env,
    CLASSOPS_POLICY_LIMITS_MAX_FILE_BYTES: String(64 << 20),
    CLASSOPS_POLICY_LIMITS_MAX_ENTRIES: String(STUDENTS),
  },
});
rmSync(dir, { recursive: true, force: true });
if (cli.status === 0) {
  console.log(
    `classops render --out - as a command: ${cli.wall.toFixed(2)} s wall, ${cli.cpu.toFixed(2)} s CPU, ${cli.mib.toFixed(0)} MiB peak RSS, ${(cli.stdout.length / 1e6).toFixed(0)} MB of YAML`,
  );
} else {
  console.log(`classops render --out - as a command: not measured (exit ${cli.status}: ${cli.stderr.slice(0, 200)})`);
}
