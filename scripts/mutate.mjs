// npm run mutate [-- area ...] [-- --stryker-option ...]: runs Stryker once per area of
// stryker.areas.mjs (by hand, never in CI), then prints the score per file and the total
// from each area's latest JSON report. `npm run mutate -- --report` only prints.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { AREAS } from '../stryker.areas.mjs';

const args = process.argv.slice(2);
const split = args.indexOf('--');
const own = split === -1 ? args : args.slice(0, split);
const strykerArgs = split === -1 ? [] : args.slice(split + 1);
const reportOnly = own.includes('--report');
const named = own.filter((a) => a !== '--report');
for (const name of named) {
  if (!(name in AREAS)) {
    console.error(`mutate: no area ${name}; areas: ${Object.keys(AREAS).join(', ')}`);
    process.exit(2);
  }
}
const areas = named.length > 0 ? named : Object.keys(AREAS);

if (!reportOnly) {
  for (const area of areas) {
    console.log(`\n== ${area}: ${AREAS[area].mutate.join(' ')}`);
    const run = spawnSync('npx', ['stryker', 'run', ...strykerArgs], {
      stdio: 'inherit',
      env: { ...process.env, STRYKER_TESTS: area },
    });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);
const rows = new Map();
// Oldest report first, so a file mutated in two areas shows its latest run.
const reports = Object.keys(AREAS)
  .map((area) => ({ area, file: `reports/mutation/${area}.json` }))
  .filter(({ file }) => existsSync(file))
  .sort((a, b) => statSync(a.file).mtimeMs - statSync(b.file).mtimeMs);
for (const { area, file } of reports) {
  for (const [source, result] of Object.entries(JSON.parse(readFileSync(file, 'utf8')).files)) {
    const count = {};
    for (const mutant of result.mutants) count[mutant.status] = (count[mutant.status] ?? 0) + 1;
    rows.set(source, { area, count });
  }
}
if (rows.size === 0) {
  console.error('mutate: no report yet in reports/mutation/; run npm run mutate first');
  process.exit(1);
}

const n = (count, statuses) => [...statuses].reduce((sum, s) => sum + (count[s] ?? 0), 0);
const pct = (part, whole) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`);
const line = (cells) => `| ${cells.join(' | ')} |`;
const total = {};
console.log(
  '\n' + line(['file', 'area', 'score', 'covered score', 'killed', 'timeout', 'survived', 'no coverage', 'errors']),
);
console.log(line(Array(9).fill('---')));
const print = (name, area, count) => {
  const detected = n(count, DETECTED);
  const survived = count['Survived'] ?? 0;
  console.log(
    line([
      name,
      area,
      pct(detected, detected + n(count, UNDETECTED)),
      pct(detected, detected + survived),
      count['Killed'] ?? 0,
      count['Timeout'] ?? 0,
      survived,
      count['NoCoverage'] ?? 0,
      n(count, ['CompileError', 'RuntimeError']),
    ]),
  );
};
for (const [source, { area, count }] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
  print(source.replace(/^src\//, ''), area, count);
  for (const [status, value] of Object.entries(count)) total[status] = (total[status] ?? 0) + value;
}
print('**total**', '', total);
