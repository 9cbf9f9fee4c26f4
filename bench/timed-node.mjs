// Runs node (this benchmark's own) with `args` under /usr/bin/time, as a whole process:
// its wall and CPU seconds, peak RSS, exit status and output. Shared by the benches that
// time a classops command the way a user runs it.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

export function timedNode(args, { cwd, env = process.env, maxBuffer = 64 << 20 } = {}) {
  const run = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', process.execPath, ...args], {
    cwd,
    env,
    encoding: 'utf8',
    maxBuffer,
  });
  if (run.error !== undefined) throw new Error(`/usr/bin/time is needed (Debian package "time"): ${run.error.message}`);
  const [wall, user, sys, kib] = run.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { wall, cpu: user + sys, mib: kib / 1024, status: run.status, stdout: run.stdout, stderr: run.stderr };
}
