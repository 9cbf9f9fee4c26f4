// What `npm run mutate` mutates, and the tests that judge each area's mutants. One table for
// stryker.config.mjs, jest.stryker.config.js and scripts/mutate.mjs.
const t = (name) => `<rootDir>/test/${name}.test.ts`;

export const AREAS = {
  // The image checks, judged by loopback registries that record what they served.
  registry: {
    mutate: ['src/registry/**/*.ts'],
    tests: [
      t('integration/registry-promises'),
      t('integration/registry-verdicts'),
      t('integration/registry-connections'),
      t('integration/registry-transport'),
      t('unit/registry-auth'),
      t('unit/image-reference'),
    ],
  },
  // The pure core: the planner, the pipeline's rules (namespaces, last-known-good), the folder target, the guard.
  core: {
    mutate: [
      'src/controller/plan.ts',
      'src/pipeline/**/*.ts',
      'src/cluster/directory.ts',
      'src/cluster/course-guard.ts',
    ],
    tests: [
      t('unit/plan'),
      t('unit/pipeline'),
      t('unit/leader'),
      t('unit/directory-target'),
      t('unit/render'),
      t('unit/course-guard'),
      t('unit/interpret'),
      t('unit/quota-room'),
    ],
  },
  // The controller's I/O against the fake API server in the same process, and its HTTP port.
  controller: {
    mutate: [
      'src/controller/reconciler.ts',
      'src/controller/state.ts',
      'src/controller/controller.ts',
      'src/controller/server.ts',
      'src/cluster/apply.ts',
      'src/cluster/leader.ts',
    ],
    tests: [
      t('unit/reconciler-io'),
      t('unit/kube-target'),
      t('unit/lease-io'),
      t('unit/controller-loop'),
      t('unit/state'),
      t('unit/status-server'),
      t('unit/leader'),
      t('integration/watch-cache'),
    ],
  },
};

/** The area STRYKER_TESTS names, or undefined for every area at once. */
export function chosenArea() {
  const name = process.env['STRYKER_TESTS'];
  if (name === undefined || name === '') return undefined;
  if (!(name in AREAS)) throw new Error(`STRYKER_TESTS=${name}: not one of ${Object.keys(AREAS).join(', ')}`);
  return name;
}
