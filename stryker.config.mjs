// Mutation testing of the code whose faults cost students or the cluster (issue 14).
// Run by hand, never in CI: `npm run mutate` (see README "Mutation testing").
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
  mutate: [
    'src/controller/**/*.ts',
    'src/pipeline/**/*.ts',
    'src/registry/**/*.ts',
    'src/cluster/course-guard.ts',
    'src/cluster/apply.ts',
    'src/cluster/leader.ts',
    'src/cluster/directory.ts',
  ],
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  concurrency: 1,
  timeoutMS: 15000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
  ignorePatterns: ['dist', 'dist-bench', 'out', 'reports', '.classops-cache', '.stryker-tmp'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
