// Start-up of the commands users wait for, as whole processes: `classops validate` on the
// bundled roster and `classops --help`, beside plain `node -e 0`. Median of RUNS runs each
// (wall time, CPU time and peak RSS from /usr/bin/time), printed beside the goals.
// Run by hand: npm run bench:startup
import { fileURLToPath } from 'node:url';
import { CLI, timedNode } from './timed-node.mjs';

const RUNS = Number(process.env.RUNS ?? 9);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const CASES = [
  { label: 'node -e 0 (floor)', args: ['-e', '0'] },
  {
    label: 'classops validate students/week-01.yaml',
    args: [CLI, 'validate', 'students/week-01.yaml'],
    goal: [0.15, 80],
  },
  { label: 'classops --help', args: [CLI, '--help'], goal: [0.15, 80] },
];

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function timeOnce(args) {
  const run = timedNode(args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run;
}

console.log(`start-up as whole processes, median of ${RUNS} runs (${process.execPath}, Node ${process.version})`);
for (const c of CASES) {
  timeOnce(c.args); // warm the file cache
  const runs = Array.from({ length: RUNS }, () => timeOnce(c.args));
  const wall = median(runs.map((r) => r.wall));
  const cpu = median(runs.map((r) => r.cpu));
  const mib = median(runs.map((r) => r.mib));
  const goal =
    c.goal === undefined
      ? ''
      : `   goal < ${c.goal[0]} s, < ${c.goal[1]} MiB: ${wall < c.goal[0] && mib < c.goal[1] ? 'met' : 'NOT met'}`;
  console.log(
    `${c.label.padEnd(42)} ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU, ${mib.toFixed(0)} MiB peak RSS${goal}`,
  );
}
