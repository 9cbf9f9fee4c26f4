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

  test('a live object found up to date is compared again once the desired spec hash changes', () => {
    // The watch's copy hands out the same live object pass after pass.
    const live = [object('Deployment', 'student-ann', {}, { replicas: 1 })];
    const desired = [object('Deployment', 'student-ann', {}, { replicas: 1 })];
    expect(refs(planChanges(desired, live, options()).unchanged)).toEqual(['Deployment/student-ann']);
    expect(refs(planChanges(desired, live, options()).unchanged)).toEqual(['Deployment/student-ann']);
    const changed = object(
      'Deployment',
      'student-ann',
      { annotations: { 'classops.dev/source-file': 'students/week-01.yaml', 'classops.dev/spec-hash': 'h2' } },
      { replicas: 2 },
    );
    expect(refs(planChanges([changed], live, options()).update)).toEqual(['Deployment/student-ann']);
  });

  test('an object the target vouches for as written matches by its spec hash alone; others are compared field by field', () => {
    const written = object('Deployment', 'student-ann', {}, { replicas: 1 });
    // Equal hashes mean equal objects: the fields are not looked at again.
    const sameHash = [object('Deployment', 'student-ann', {}, { replicas: 9 })];
    const vouched = options({ writtenAsIs: (o) => o === written });
    expect(refs(planChanges(sameHash, [written], vouched).unchanged)).toEqual(['Deployment/student-ann']);
    const rehashed = object(
      'Deployment',
      'student-ann',
      { annotations: { 'classops.dev/source-file': 'students/week-01.yaml', 'classops.dev/spec-hash': 'h2' } },
      { replicas: 1 },
    );
    expect(refs(planChanges([rehashed], [written], vouched).update)).toEqual(['Deployment/student-ann']);
    const notVouched = options({ writtenAsIs: () => false });
    expect(refs(planChanges(sameHash, [written], notVouched).update)).toEqual(['Deployment/student-ann']);
  });

  test('without a spec hash to vouch for it, an object is compared field by field on every pass', () => {
    const unhashed = (replicas: number) => object('Deployment', 'student-ann', { annotations: {} }, { replicas });
    const live = unhashed(1);
    const vouched = options({ writtenAsIs: () => true });
    expect(refs(planChanges([unhashed(1)], [live], vouched).unchanged)).toEqual(['Deployment/student-ann']);
    // Found up to date once, the same live object is still compared with what is desired now.
    expect(refs(planChanges([unhashed(2)], [live], vouched).update)).toEqual(['Deployment/student-ann']);
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

  test('while the guard holds a week, its running students are left as they are; new ones and other weeks go on', () => {
    const live = [...student('ann'), ...student('bo'), ...student('cy'), ...student('dee')];
    // What a roster cut after Ann's image leaves: Ann changed (her port lost), three classmates gone, one new.
    const changedAnn = [object('Deployment', 'student-ann', {}, { port: 5000 }), ...student('ann').slice(1)];
    const other = {
      ...object('Deployment', 'student-eve', {}, { port: 2 }),
      metadata: { ...object('Deployment', 'student-eve').metadata, namespace: 'course-week02' },
    } as KubeObject;
    const plan = planChanges(
      [...changedAnn, ...student('new'), other],
      [...live, { ...other, spec: { port: 1 } }],
      options(),
    );
    expect(plan.prune).toEqual([]);
    expect(refs(plan.update)).toEqual(['Deployment/student-eve']);
    expect(refs(plan.withheld)).toEqual(['Deployment/student-ann']);
    expect(refs(plan.create)).toEqual(['Service/student-new', 'Deployment/student-new', 'Ingress/student-new']);
    expect(plan.refused[0]?.reason).toContain('its running students were left as they are');
    expect(refs(planChanges(changedAnn, live, options({ allowMassPrune: true })).update)).toEqual([
      'Deployment/student-ann',
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

  test('drift inside lists and maps: server additions are not drift, a changed or removed value is', () => {
    const plan = (desiredSpec: unknown, liveSpec: unknown) => {
      const p = planChanges(
        [object('Service', 'student-ann', {}, desiredSpec)],
        [object('Service', 'student-ann', {}, liveSpec)],
        options(),
      );
      return p.update.length > 0 ? 'update' : 'unchanged';
    };
    const ports = [{ port: 80 }, { port: 81 }];
    // The server adds a default to each item: not drift.
    expect(
      plan(
        { ports },
        {
          ports: [
            { port: 80, protocol: 'TCP' },
            { port: 81, protocol: 'TCP' },
          ],
        },
      ),
    ).toBe('unchanged');
    // One item changed, one added, the list removed or replaced by something else: drift.
    expect(plan({ ports }, { ports: [{ port: 80 }, { port: 82 }] })).toBe('update');
    expect(plan({ ports }, { ports: [...ports, { port: 83 }] })).toBe('update');
    expect(plan({ ports }, {})).toBe('update');
    expect(plan({ ports }, { ports: 'none' })).toBe('update');
    // Empty collections the server dropped are not drift; an empty one replaced by something else is.
    expect(plan({ ports: [], selector: {} }, {})).toBe('unchanged');
    expect(plan({ ports: [] }, { ports: 'none' })).toBe('update');
    expect(plan({ selector: {} }, { selector: 'none' })).toBe('update');
    // A map someone removed, or replaced by a value: drift.
    expect(plan({ selector: { app: 'ann' } }, {})).toBe('update');
    expect(plan({ selector: { app: 'ann' } }, { selector: null })).toBe('update');
    // A field classops leaves undefined is never written, so the server may set it.
    expect(plan({ ports, sessionAffinity: undefined }, { ports, sessionAffinity: 'None' })).toBe('unchanged');
    // null is a value like any other.
    expect(plan({ clusterIP: null, ports }, { clusterIP: null, ports })).toBe('unchanged');
    expect(plan({ clusterIP: null }, { clusterIP: '10.0.0.1' })).toBe('update');
  });

  test('on an exact target (a folder) live must equal desired: an empty map or list added or removed is drift', () => {
    const plan = (desiredSpec: unknown, liveSpec: unknown, exact = true) => {
      const p = planChanges(
        [object('Service', 'student-ann', {}, desiredSpec)],
        [object('Service', 'student-ann', {}, liveSpec)],
        options({ exact }),
      );
      return p.update.length > 0 ? 'update' : 'unchanged';
    };
    const ports = [{ port: 80 }];
    expect(plan({ ports }, { ports })).toBe('unchanged');
    expect(plan({ ports }, { ports, extra: {} })).toBe('update');
    expect(plan({ ports }, { ports, args: [] })).toBe('update');
    expect(plan({ ports }, { ports: [{ port: 80, args: [] }] })).toBe('update');
    expect(plan({ ports, selector: {} }, { ports })).toBe('update');
    expect(plan({ ports: [] }, {})).toBe('update');
    expect(plan({ ports }, { ports: [{ port: 80, protocol: 'TCP' }] })).toBe('update');
    expect(plan({ ports: [{ port: 80 }, { port: 81 }] }, { ports })).toBe('update');
    expect(plan({ ports }, { ports: [{ port: 80 }, { port: 81 }] })).toBe('update');
    expect(plan({ ports: {} }, { ports: [] })).toBe('update');
    expect(plan({ ports: [] }, { ports: {} })).toBe('update');
    // A field classops leaves undefined is no field: equal to one that is not there.
    expect(plan({ ports, sessionAffinity: undefined }, { ports })).toBe('unchanged');
    expect(plan({ ports }, { ports, sessionAffinity: undefined })).toBe('unchanged');
    // An API server (not exact) drops empty collections and adds defaults: neither is drift there.
    expect(plan({ ports, selector: {} }, { ports: [{ port: 80, protocol: 'TCP' }] }, false)).toBe('unchanged');
  });

  test('drift in metadata: a label someone changed is an update; only the source revision is ignored', () => {
    const desired = [
      object('Service', 'student-ann', {
        annotations: {
          'classops.dev/source-file': 'students/week-01.yaml',
          'classops.dev/spec-hash': 'h1',
          'classops.dev/source-revision': 'r2',
        },
      }),
    ];
    const relabelled = object('Service', 'student-ann', { labels: { 'app.kubernetes.io/managed-by': 'someone' } });
    expect(refs(planChanges(desired, [relabelled], options()).update)).toEqual(['Service/student-ann']);
    const older = object('Service', 'student-ann', {
      annotations: {
        'classops.dev/source-file': 'students/week-01.yaml',
        'classops.dev/spec-hash': 'h1',
        'classops.dev/source-revision': 'r1',
      },
    });
    expect(refs(planChanges(desired, [older], options()).unchanged)).toEqual(['Service/student-ann']);
  });

  test('a namespace no roster has is refused by name; in a protected namespace it is not even a candidate', () => {
    expect(planChanges([], [object('Namespace', NS)], options()).refused).toEqual([
      {
        namespace: NS,
        objects: [{ apiVersion: 'v1', kind: 'Namespace', namespace: undefined, name: NS }],
        reason: `Namespace ${NS} is no longer in any roster; classops never deletes a namespace (it would take everything in it). Delete it by hand when the week is over.`,
      },
    ]);
    const protectedNs = options({ protection: { namespaces: new Set([NS]), unknown: false, owned: new Set() } });
    expect(planChanges([], [object('Namespace', NS)], protectedNs)).toMatchObject({ prune: [], refused: [] });
  });

  test('the guard counts students by their Deployments: a week-level object leaving with one student is allowed', () => {
    const week = object('NetworkPolicy', 'week', { labels: { 'app.kubernetes.io/managed-by': 'classops' } });
    const plan = planChanges(student('ann'), [...student('ann'), ...student('bo'), week], options());
    expect(plan.refused).toEqual([]);
    expect(refs(plan.prune)).toEqual([
      'Ingress/student-bo',
      'Deployment/student-bo',
      'Service/student-bo',
      'NetworkPolicy/week',
    ]);
  });

  test('the guard counts the students of the week they leave, not of other weeks or week-level objects', () => {
    const NS2 = 'course-week02';
    const week = object('NetworkPolicy', 'week', { labels: { 'app.kubernetes.io/managed-by': 'classops' } });
    const other = ['dee', 'eve', 'fay'].flatMap((login) =>
      student(login).map((o) => ({ ...o, metadata: { ...o.metadata, namespace: NS2 } })),
    );
    const live = [...student('ann'), ...student('bo'), ...student('cy'), week, ...other];
    const plan = planChanges([...student('ann'), week, ...other], live, options());
    expect(plan.prune).toEqual([]);
    expect(plan.refused).toEqual([
      {
        namespace: NS,
        objects: [...student('bo'), ...student('cy')].map((o) => ({
          apiVersion: o.apiVersion,
          kind: o.kind,
          namespace: NS,
          name: o.metadata.name,
        })),
        reason: `Pruning would remove 2 of 3 students in ${NS}, more than the guard allows (1, cluster.maxPruneFraction 0.5). Nothing was deleted, and its running students were left as they are; if this is intended, run once with --allow-mass-prune.`,
      },
    ]);
  });
  test('every running student of the course leaving at once is refused, though each week loses only one', () => {
    const inWeek = (namespace: string, login: string) =>
      student(login).map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
    // Three weeks of one student each, as an emptied roster folder leaves them: nothing is desired.
    const live = [
      ...inWeek('course-week01', 'ann'),
      ...inWeek('course-week02', 'bo'),
      ...inWeek('course-week03', 'cy'),
    ];
    const protection = { namespaces: new Set<string>(), unknown: false, owned: new Set<string>() };
    const plan = planChanges([], live, options({ protection }));
    expect(plan.prune).toEqual([]);
    expect(plan.refused.map((r) => r.namespace)).toEqual(['course-week01', 'course-week02', 'course-week03']);
    expect(plan.refused[0]!.reason).toContain(
      "Pruning would remove every one of the course's 3 running students, 1 of them in course-week01, and no roster names a student: the roster files look emptied or gone.",
    );
    expect(planChanges([], live, options({ protection, allowMassPrune: true })).prune).toHaveLength(9);
    // A week with no student loses its own objects: the refusals are for the weeks that lose students.
    const quota = object('ResourceQuota', 'classops-quota', {
      namespace: 'course-week04',
      labels: { 'app.kubernetes.io/managed-by': 'classops' },
    });
    const withEmptyWeek = planChanges([], [...live, quota], options({ protection }));
    expect(refs(withEmptyWeek.prune)).toEqual(['ResourceQuota/classops-quota']);
    expect(withEmptyWeek.refused.map((r) => r.namespace)).toEqual(['course-week01', 'course-week02', 'course-week03']);
    // A student a broken roster may still name (a protected week) is not leaving: the others go, one per week.
    const broken = { ...protection, namespaces: new Set(['course-week03']) };
    expect(refs(planChanges([], live, options({ protection: broken })).prune)).toHaveLength(6);
    // One student of the course may always leave, and one of several when others stay.
    expect(planChanges([], inWeek('course-week01', 'ann'), options({ protection })).prune).toHaveLength(3);
    expect(planChanges(inWeek('course-week02', 'bo'), live.slice(0, 6), options({ protection })).prune).toHaveLength(3);
    // Students moved between weeks all leave their old ones, but the rosters still name them: the week guard decides.
    const moved = [...inWeek('course-week02', 'ann'), ...inWeek('course-week01', 'bo')];
    const swap = planChanges(moved, live.slice(0, 6), options({ protection }));
    expect(swap.refused).toEqual([]);
    expect(swap.prune).toHaveLength(6);
  });
});
