/**
 * The composite action and the example workflows as GitHub runs them: npm, which reads a
 * .npmrc from the folder it runs in, never runs inside the pull request's checkout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/cli.js';

interface Step {
  readonly uses?: string;
  readonly run?: string;
  readonly 'working-directory'?: string;
}

/** Each npm or npx line of the steps, with whether it runs where the checkout is. */
function npmLines(steps: readonly Step[], checkedOutFirst: boolean): Array<{ line: string; inCheckout: boolean }> {
  const found: Array<{ line: string; inCheckout: boolean }> = [];
  let checkedOut = checkedOutFirst;
  for (const step of steps) {
    if (step.uses?.startsWith('actions/checkout@')) checkedOut = true;
    let inCheckout = checkedOut && step['working-directory'] !== '${{ runner.temp }}';
    for (const line of (step.run ?? '').split('\n')) {
      if (/^\s*cd\s+"?\$GITHUB_WORKSPACE"?\s*$/.test(line)) inCheckout = true;
      if (/(^|[\s;(|&])(npm|npx)\s/.test(line)) found.push({ line: line.trim(), inCheckout });
    }
  }
  return found;
}

const load = (file: string) => parse(readFileSync(join(ROOT, file), 'utf8'));

test('the composite action installs classops outside the checkout a pull request fills', () => {
  // A composite action runs after the workflow's own actions/checkout.
  const lines = npmLines(load('action.yml').runs.steps, true);
  expect(lines.length).toBeGreaterThan(0);
  expect(lines.filter((l) => l.inCheckout)).toEqual([]);
});

test('the example check workflow runs npm before the checkout or outside it', () => {
  const jobs = Object.values<{ steps: Step[] }>(load('examples/github/classops-check.yml').jobs);
  const lines = jobs.flatMap((job) => npmLines(job.steps, false));
  expect(lines.length).toBeGreaterThan(0);
  expect(lines.filter((l) => l.inCheckout)).toEqual([]);
});

test('the example report workflow posts for one pull request at a time, and never cancels a post under way', () => {
  const { concurrency } = load('examples/github/classops-report.yml') as {
    concurrency: { group: string; 'cancel-in-progress'?: boolean };
  };
  expect(concurrency.group).toContain('${{ github.event.workflow_run.head_repository.full_name }}');
  expect(concurrency.group).toContain('${{ github.event.workflow_run.head_branch }}');
  expect(concurrency['cancel-in-progress']).not.toBe(true);
});

test("every example job ends within minutes, not GitHub's six hours, if anything hangs", () => {
  for (const file of ['examples/github/classops-check.yml', 'examples/github/classops-report.yml']) {
    const jobs = Object.values<{ 'timeout-minutes'?: number }>(load(file).jobs);
    expect(jobs.map((job) => job['timeout-minutes'])).toEqual(jobs.map(() => expect.any(Number)));
    for (const job of jobs) expect(job['timeout-minutes']).toBeLessThanOrEqual(15);
  }
});
