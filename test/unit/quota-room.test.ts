/** A week with more students than render.quota lets run is said to the instructor, by the key that runs out. */
import { loadConfig } from '../../src/config.js';
import { interpretReports } from '../../src/pipeline/interpret.js';
import { validateRoster } from '../../src/roster/validate.js';
import { rosterText } from '../support/rosters.js';

const entries = (n: number, week = 1) =>
  n === 0
    ? rosterText('', week).replace('students:\n', 'students: []\n')
    : rosterText(
        Array.from(
          { length: n },
          (_, i) => `  - name: "S ${i}"\n    github_username: "s-${i}"\n    container_image: "ghcr.io/s-${i}/app:v1"\n`,
        ).join(''),
        week,
      );

/** What the pipeline says of each week, for rosters of `sizes` students and the render config given. */
function overQuota(sizes: number[], render: Record<string, unknown>): readonly string[] {
  const config = loadConfig({ env: {}, overrides: { render } });
  const reports = sizes.map((n, i) =>
    validateRoster(`students/week-0${i + 1}.yaml`, Buffer.from(entries(n, i + 1)), config.policy),
  );
  return interpretReports(reports, new Map(), config, { revision: 'r', lastGood: new Map() }).desired!.overQuota.map(
    ({ message }) => message,
  );
}

const resources = {
  requests: { cpu: '50m', memory: '64Mi', ephemeralStorage: '64Mi' },
  limits: { cpu: '500m', memory: '256Mi', ephemeralStorage: '1Gi' },
};

test('the defaults fit a week of 149 students, not one of 150: a rollout needs a pod more', () => {
  expect(overQuota([149], {})).toEqual([]);
  expect(overQuota([150], {})).toEqual([
    'container-course-week01: its 150 students need pods 151 (a pod per student, one more for a rollout), but render.quota.pods is 150: the API server refuses what goes past it, so the apps, routes or next versions of some students will not start until an instructor raises it in classops.yaml.',
  ]);
});

test.each([
  ['pods', '5', '4', 'pods 5 (a pod per student, one more for a rollout)'],
  ['count/pods', '5', '4', 'count/pods 5 (a pod per student, one more for a rollout)'],
  ['services', '4', '3', 'services 4,'],
  ['count/services', '4', '3', 'count/services 4,'],
  ['count/deployments.apps', '4', '3', 'count/deployments.apps 4,'],
  // A week route and the plain path's route for each student: this is every student's newest week.
  ['count/ingresses.networking.k8s.io', '8', '7', 'count/ingresses.networking.k8s.io 8,'],
  ['requests.cpu', '250m', '249m', 'requests.cpu 5 × 50m (a pod per student, one more for a rollout)'],
  ['cpu', '0.25', '0.249', 'cpu 5 × 50m'],
  ['requests.memory', '320Mi', '319Mi', 'requests.memory 5 × 64Mi'],
  ['memory', '320Mi', '319Mi', 'memory 5 × 64Mi'],
  ['limits.cpu', '2500m', '2', 'limits.cpu 5 × 500m'],
  ['limits.memory', '1280Mi', '1Gi', 'limits.memory 5 × 256Mi'],
  ['requests.ephemeral-storage', '320Mi', '300Mi', 'requests.ephemeral-storage 5 × 64Mi'],
  ['ephemeral-storage', '320Mi', '300Mi', 'ephemeral-storage 5 × 64Mi'],
  ['limits.ephemeral-storage', '5Gi', '4Gi', 'limits.ephemeral-storage 5 × 1Gi'],
])('%s: four students fit %s, not %s', (key, enough, short, need) => {
  expect(overQuota([4], { resources, quota: { [key]: enough } })).toEqual([]);
  const [said, ...more] = overQuota([4], { resources, quota: { [key]: short } });
  expect(more).toEqual([]);
  expect(said).toContain(`its 4 students need ${need}`);
  expect(said).toContain(`but render.quota.${key} is ${short}:`);
});

test('a week of no students needs no pod, not even the one a rollout would take; its own objects count', () => {
  expect(overQuota([0], { quota: { pods: '0', 'requests.cpu': '0' } })).toEqual([]);
  // Three network policies, a LimitRange and the quota itself, whoever is in the week.
  const own = { 'count/networkpolicies.networking.k8s.io': '3', 'count/limitranges': '1', resourcequotas: '1' };
  expect(overQuota([0], { quota: own })).toEqual([]);
  expect(overQuota([0], { quota: { ...own, 'count/networkpolicies.networking.k8s.io': '2' } })).toEqual([
    expect.stringContaining('its 0 students need count/networkpolicies.networking.k8s.io 3, but'),
  ]);
  expect(overQuota([2], { quota: { 'count/resourcequotas': '0' } })).toEqual([
    expect.stringContaining('need count/resourcequotas 1, but'),
  ]);
  const traefik = { routing: { rewrite: 'traefik' }, quota: { 'count/middlewares.traefik.io': '0' } };
  expect(overQuota([1], traefik)).toEqual([expect.stringContaining('need count/middlewares.traefik.io 1, but')]);
});

test('each week is judged by its own students; what classops makes none of is never short', () => {
  const quota = { pods: '4', 'services.loadbalancers': '0', 'count/configmaps': '0', 'requests.nvidia.com/gpu': '0' };
  expect(overQuota([3, 4, 2], { quota }).map((s) => s.split(':')[0])).toEqual(['container-course-week02']);
  // Gateway API routes are not Ingresses.
  const httproute = { mode: 'httproute', parentRefs: [{ name: 'gw' }] };
  expect(overQuota([4], { routing: httproute, quota: { 'count/ingresses.networking.k8s.io': '0' } })).toEqual([]);
  expect(overQuota([4], { routing: httproute, quota: { 'count/httproutes.gateway.networking.k8s.io': '7' } })).toEqual([
    expect.stringContaining('need count/httproutes.gateway.networking.k8s.io 8,'),
  ]);
});
