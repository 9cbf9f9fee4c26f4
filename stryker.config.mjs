// Mutation testing of the code whose faults cost students or the cluster (issue 14).
// Run by hand, never in CI: `npm run mutate` (see docs/TESTING.md, "Mutation testing").
import { AREAS, chosenArea } from './stryker.areas.mjs';

// One area per run (STRYKER_TESTS), each with its own incremental file and reports, so
// scripts/mutate.mjs can sum the areas' latest runs.
const area = chosenArea();
const run = area ?? 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'jest',
  // Jest runs ts-jest in ESM mode, which needs the VM modules flag in Stryker's test runner processes too.
  testRunnerNodeArgs: ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning'],
  jest: { configFile: 'jest.stryker.config.js', enableFindRelatedTests: false },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // The controller tests drive the built CLI (dist/), so the sandbox builds the mutated sources once;
  // test/support/cli.ts passes the active mutant on to the processes it starts.
  buildCommand: 'npm run build --silent',
  mutate: area === undefined ? Object.values(AREAS).flatMap((a) => a.mutate) : AREAS[area].mutate,
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `reports/stryker-${run}.json`,
  concurrency: 1,
  timeoutMS: 15000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${run}.html` },
  jsonReporter: { fileName: `reports/mutation/${run}.json` },
  thresholds: { high: 90, low: 85, break: null },
  ignorePatterns: ['dist', 'dist-bench', 'out', 'reports', '.classops-cache', '.stryker-tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
