/**
 * The jest set-up for `npm run mutate`: only the tests that exercise the mutated code.
 * STRYKER_TESTS=registry (or core, registry-real, controller, controller-fast, cluster-fast, cluster) narrows it to one area,
 * so a run on src/registry/ does not start the controller's processes in its dry run.
 */
import base from './jest.config.js';

const AREAS = {
  // The loopback registries that record what they served: milliseconds per mutant.
  registry: [
    '<rootDir>/test/integration/registry-promises.test.ts',
    '<rootDir>/test/unit/registry-auth.test.ts',
    '<rootDir>/test/unit/image-reference.test.ts',
  ],
  // The pure core: the planner, the pipeline's rules, the Lease arithmetic, the folder target.
  core: [
    '<rootDir>/test/unit/plan.test.ts',
    '<rootDir>/test/unit/pipeline.test.ts',
    '<rootDir>/test/unit/leader.test.ts',
    '<rootDir>/test/unit/directory-target.test.ts',
    '<rootDir>/test/unit/render.test.ts',
  ],
  // Real docker-registry set-ups: several seconds of start-up and skopeo pushes per mutant.
  'registry-real': ['<rootDir>/test/integration/registry.test.ts'],
  controller: [
    '<rootDir>/test/unit/plan.test.ts',
    '<rootDir>/test/unit/pipeline.test.ts',
    '<rootDir>/test/integration/safety.test.ts',
    '<rootDir>/test/integration/controller.test.ts',
    '<rootDir>/test/integration/controller-promises.test.ts',
    '<rootDir>/test/integration/operator.test.ts',
  ],
  // The controller's I/O in one process (reconciler, KubeTarget, Lease, the loop) against the
  // fake API server: milliseconds per pass, no classops processes.
  'controller-fast': [
    '<rootDir>/test/unit/reconciler-io.test.ts',
    '<rootDir>/test/unit/kube-target.test.ts',
    '<rootDir>/test/unit/lease-io.test.ts',
    '<rootDir>/test/unit/controller-loop.test.ts',
    '<rootDir>/test/unit/state.test.ts',
    '<rootDir>/test/unit/leader.test.ts',
  ],
  // The cluster I/O alone (KubeTarget, the Lease), for runs on src/cluster/apply.ts and leader.ts.
  'cluster-fast': [
    '<rootDir>/test/unit/kube-target.test.ts',
    '<rootDir>/test/unit/lease-io.test.ts',
    '<rootDir>/test/unit/leader.test.ts',
  ],
  cluster: [
    '<rootDir>/test/unit/leader.test.ts',
    '<rootDir>/test/unit/directory-target.test.ts',
    '<rootDir>/test/integration/leader.test.ts',
    '<rootDir>/test/integration/controller.test.ts',
  ],
};
const chosen = process.env['STRYKER_TESTS'];

export default {
  ...base,
  testMatch: [...new Set(chosen === undefined ? Object.values(AREAS).flat() : AREAS[chosen])],
};
