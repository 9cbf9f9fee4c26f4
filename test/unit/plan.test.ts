/** The planner alone: desired against live, drift, protection and the prune guard. Pure, so no server. */
import { planChanges, type PlanOptions } from '../../src/controller/plan.js';
import type { KubeObject } from '../../src/render/objects.js';

const NS = 'course-week01';
const object = (kind: string, name: string, extra: Partial<KubeObject['metadata']> = {}, spec: unknown = {}) =>
  ({
    apiVersion: kind === 'Deployment' ? 'apps/v1' : kind === 'Ingress' ? 'networking.k8s.io/v1' : 'v1',
    kind,
    metadata: {
      name,
      ...(kind === 'Namespace' ? {} : { namespace: NS }),
      labels: { 'app.kubernetes.io/managed-by': 'classops', 'classops.dev/student': name.replace('student-', '') },
      annotations: { 'classops.dev/source-file': 'students/week-01.yaml', 'classops.dev/spec-hash': 'h1' },
      ...extra,
    },
    spec,
  }) as KubeObject;
const student = (login: string) => [
  object('Deployment', `student-${login}`),
  object('Service', `student-${login}`),
  object('Ingress', `student-${login}`),
];
const options = (over: Partial<PlanOptions> = {}): PlanOptions => ({
  protection: { namespaces: new Set(), unknown: false, owned: new Set([NS]) },
  maxPruneFraction: 0.5,
  allowMassPrune: false,
  ...over,
});
const refs = (list: ReadonlyArray<{ kind: string; name?: string; metadata?: { name: string } }>) =>
  list.map((r) => `${r.kind}/${r.name ?? r.metadata?.name}`);

describe('planChanges', () => {
  test('missing objects are created in apply order; equal ones are unchanged', () => {
    const desired = [...student('ann'), object('Namespace', NS)];
    const plan = planChanges(desired, student('ann'), options());
    expect(refs(plan.create)).toEqual([`Namespace/${NS}`]);
    expect(refs(plan.unchanged)).toEqual(['Service/student-ann', 'Deployment/student-ann', 'Ingress/student-ann']);
  });

  test('drift: a field someone changed, or another spec hash, is an update', () => {
    const desired = [object('Deployment', 'student-ann', {}, { replicas: 1 })];
    const edited = [object('Deployment', 'student-ann', {}, { replicas: 5 })];
    expect(refs(planChanges(desired, edited, options()).update)).toEqual(['Deployment/student-ann']);
    const rehashed = [
      object('Deployment', 'student-ann', {
        annotations: { 'classops.dev/source-file': 'students/week-01.yaml', 'classops.dev/spec-hash': 'h0' },
      }),
    ];
    expect(refs(planChanges(desired, rehashed, options()).update)).toEqual(['Deployment/student-ann']);
    // Server-added defaults are not drift.
    const defaulted = [object('Deployment', 'student-ann', { uid: 'x' }, { replicas: 1, paused: false })];
    expect(refs(planChanges(desired, defaulted, options()).unchanged)).toEqual(['Deployment/student-ann']);
  });

  test('prune goes in the reverse of apply order: routes, then Deployments, then the Services they used', () => {
    const live = [...student('ann'), ...student('bo'), ...student('cy'), ...student('dee')];
    const plan = planChanges([...student('ann'), ...student('dee')], live, options());
    expect(refs(plan.prune)).toEqual([
      'Ingress/student-bo',
      'Ingress/student-cy',
      'Deployment/student-bo',
      'Deployment/student-cy',
      'Service/student-bo',
      'Service/student-cy',
    ]);
  });

  test('the guard: more than the fraction of a week is refused; removing one student is always allowed', () => {
    const live = [...student('ann'), ...student('bo'), ...student('cy')];
    const refused = planChanges([], live, options());
    expect(refused.prune).toEqual([]);
    expect(refused.refused).toEqual([
      expect.objectContaining({ namespace: NS, reason: expect.stringContaining('would remove 3 of 3 students') }),
    ]);
    expect(planChanges([], live, options({ allowMassPrune: true })).prune).toHaveLength(9);
    // A week of two: removing one is half, and one is always allowed even with a stricter fraction.
    const two = [...student('ann'), ...student('bo')];
    expect(refs(planChanges(student('ann'), two, options({ maxPruneFraction: 0.1 })).prune)).toEqual([
      'Ingress/student-bo',
      'Deployment/student-bo',
      'Service/student-bo',
    ]);
  });

  test('namespaces are never pruned', () => {
    const plan = planChanges([], [object('Namespace', NS)], options());
    expect(plan.prune).toEqual([]);
    expect(plan.refused[0]?.reason).toContain('classops never deletes a namespace');
  });

  test('nothing is pruned in a protected namespace, nor outside owned ones when a broken roster has no known namespace', () => {
    const live = [...student('ann'), ...student('bo')];
    const protectedNs = options({ protection: { namespaces: new Set([NS]), unknown: false, owned: new Set() } });
    expect(planChanges(student('ann'), live, protectedNs).prune).toEqual([]);
    const unknown = options({ protection: { namespaces: new Set(), unknown: true, owned: new Set() } });
    expect(planChanges(student('ann'), live, unknown).prune).toEqual([]);
    const owned = options({ protection: { namespaces: new Set(), unknown: true, owned: new Set([NS]) } });
    expect(planChanges(student('ann'), live, owned).prune).toHaveLength(3);
  });

  test('an object without classops’ source-file annotation is never pruned', () => {
    const foreign = object('Service', 'student-zed', { annotations: {} });
    expect(planChanges([], [foreign], options()).prune).toEqual([]);
  });
});
