/** What a roster means: the one pipeline, fed validated rosters, verdicts and last-known-good. */
import { loadConfig } from '../../src/config.js';
import { planChanges } from '../../src/controller/plan.js';
import type { LastGood } from '../../src/pipeline/desired.js';
import { interpretReports } from '../../src/pipeline/interpret.js';
import type { Verdict } from '../../src/registry/verdict.js';
import { courseNamespaces } from '../../src/render/names.js';
import { validateRoster } from '../../src/roster/validate.js';
import { rosterText } from '../support/rosters.js';

const config = loadConfig({ env: {} });
const entry = (login: string, image = `ghcr.io/${login}/app:v1`, extra = '') =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "${image}"\n${extra}`;
const report = (file: string, students: string, week = 1, header = '') =>
  validateRoster(
    file,
    Buffer.from(rosterText(students, week).replace('metadata:\n', `metadata:\n${header}`)),
    config.policy,
  );
const good = (login: string, namespace = 'container-course-week01', image = `ghcr.io/${login}/app:v0`): LastGood => ({
  week: { file: `students/week-${namespace.slice(-2)}.yaml`, week: Number(namespace.slice(-2)), namespace },
  entry: {
    name: login,
    githubUsername: login,
    containerImage: image,
    studentEndpoint: '/student',
    healthEndpoint: '/health',
    port: 5000,
  },
  digest: undefined,
});
const lastGood = (...goods: LastGood[]) =>
  new Map(goods.map((g) => [`${g.week.namespace}/${g.entry.githubUsername}`, g]));
const decide = (
  reports: ReturnType<typeof report>[],
  previous = lastGood(),
  verdicts: ReadonlyMap<string, Verdict> = new Map(),
) => interpretReports(reports, verdicts, config, { revision: 'r', lastGood: previous });
const outcome = (i: ReturnType<typeof decide>) =>
  i.desired!.students.map((s) => `${s.githubUsername}:${s.deployment}:${s.image ?? '-'}`);

describe('last-known-good, per kind of failure', () => {
  test('a valid entry deploys as written', () => {
    expect(outcome(decide([report('students/week-01.yaml', entry('ann'))]))).toEqual([
      'ann:deployed:ghcr.io/ann/app:v1',
    ]);
  });

  test('an entry with errors: a running student keeps what ran, a new one is absent', () => {
    const i = decide(
      [report('students/week-01.yaml', entry('ann', 'ghcr.io/ann/app:v1', '    port: 0\n') + entry('bo', 'nope'))],
      lastGood(good('ann')),
    );
    expect(outcome(i)).toEqual(['ann:kept:ghcr.io/ann/app:v0', 'bo:absent:-']);
  });

  test('the student’s image fault keeps what ran; a registry outage keeps the old image but never blocks a new student', () => {
    const verdicts = new Map<string, Verdict>([
      ['ghcr.io/ann/app:v1', { kind: 'private', detail: 'token refused' }],
      ['ghcr.io/bo/app:v1', { kind: 'unreachable', reason: 'timeout' }],
      ['ghcr.io/cy/app:v1', { kind: 'unreachable', reason: 'timeout' }],
    ]);
    const i = decide(
      [report('students/week-01.yaml', entry('ann') + entry('bo') + entry('cy'))],
      lastGood(good('ann'), good('bo')),
      verdicts,
    );
    expect(outcome(i)).toEqual([
      'ann:kept:ghcr.io/ann/app:v0',
      'bo:kept:ghcr.io/bo/app:v0',
      'cy:deployed:ghcr.io/cy/app:v1',
    ]);
  });

  test('a registry outage with the image unchanged: the digest last confirmed stays, the rest of the entry goes ahead', () => {
    const DIGEST = `sha256:${'b'.repeat(64)}`;
    const verdicts = new Map<string, Verdict>([['ghcr.io/ann/app:v0', { kind: 'unreachable', reason: 'timeout' }]]);
    const before = { ...good('ann'), digest: DIGEST };
    const fixed = entry('ann', 'ghcr.io/ann/app:v0', '    port: 8080\n');
    const i = decide([report('students/week-01.yaml', fixed)], lastGood(before), verdicts);
    expect(outcome(i)).toEqual([`ann:deployed:ghcr.io/ann/app@${DIGEST}`]);
    const deployment = i.desired!.objects.find((o) => o.kind === 'Deployment')!;
    const container = (deployment['spec'] as { template: { spec: { containers: Record<string, unknown>[] } } }).template
      .spec.containers[0]!;
    expect(container['image']).toBe(`ghcr.io/ann/app@${DIGEST}`);
    expect(container['ports']).toEqual([expect.objectContaining({ containerPort: 8080 })]);
    // What it records as last-known-good keeps the confirmed digest.
    expect(i.desired!.fresh.get('container-course-week01/ann')!.digest).toBe(DIGEST);
    // Without image checks there is no verdict: the image is deployed as written.
    const unchecked = decide([report('students/week-01.yaml', fixed)], lastGood(before));
    expect(unchecked.desired!.fresh.get('container-course-week01/ann')!.digest).toBeUndefined();
  });

  test('a broken file keeps every student of the namespaces it could own, and protects them', () => {
    const broken = validateRoster('students/week-01.yaml', Buffer.from('students: [\n'), config.policy);
    const i = decide([broken], lastGood(good('ann'), good('bo', 'container-course-week02')));
    expect(outcome(i)).toEqual(['ann:kept:ghcr.io/ann/app:v0']);
    expect([...i.protection.namespaces]).toEqual(['container-course-week01']);
    expect(i.protection.unknown).toBe(false);
  });

  test('a broken file with no week in its name or header protects everything not owned by a complete file', () => {
    const broken = validateRoster('students/roster.yaml', Buffer.from('students: [\n'), config.policy);
    const i = decide([broken, report('students/week-02.yaml', entry('cy'), 2)]);
    expect(i.protection.unknown).toBe(true);
    expect([...i.protection.owned]).toEqual(['container-course-week02']);
  });
});

describe('an entry that could be anyone’s holds back removals from its week (a roster cut short)', () => {
  const kept = (i: ReturnType<typeof decide>) =>
    i.desired!.students.filter((s) => s.deployment === 'kept').map((s) => `${s.githubUsername}: ${s.reason}`);

  test('a last item that is not a mapping (`head -c` left `- n`) removes no one, and says which line holds them', () => {
    const cut = report('students/week-01.yaml', entry('ann') + '  - n\n');
    const i = decide([cut], lastGood(good('ann'), good('bo')));
    expect(outcome(i)).toEqual(['ann:deployed:ghcr.io/ann/app:v1', 'bo:kept:ghcr.io/bo/app:v0']);
    expect(kept(i)).toEqual([
      "bo: an entry with errors on line 9 of students/week-01.yaml could be what is left of this student's; keeping the last-known-good version until fixed or removed",
    ]);
  });

  test('an entry cut before its login, or inside it, removes no one; a login that matches keeps only its student', () => {
    const noLogin = report('students/week-01.yaml', entry('ann') + '  - name: "bo"\n');
    expect(outcome(decide([noLogin], lastGood(good('ann'), good('bo'))))).toEqual([
      'ann:deployed:ghcr.io/ann/app:v1',
      'bo:kept:ghcr.io/bo/app:v0',
    ]);
    const partLogin = report('students/week-01.yaml', entry('ann') + '  - name: "bo"\n    github_username: "b"\n');
    expect(outcome(decide([partLogin], lastGood(good('ann'), good('bo'))))).toEqual([
      'ann:deployed:ghcr.io/ann/app:v1',
      'b:absent:-',
      'bo:kept:ghcr.io/bo/app:v0',
    ]);
    const emptyLogin = report(
      'students/week-01.yaml',
      entry('ann') + '  - name: "bo"\n    github_username:\n    container_image: "ghcr.io/bo/app:v1"\n',
    );
    expect(outcome(decide([emptyLogin], lastGood(good('ann'), good('bo'))))).toEqual([
      'ann:deployed:ghcr.io/ann/app:v1',
      'bo:kept:ghcr.io/bo/app:v0',
    ]);
    // A block scalar cut after its indicator reads as empty text: still a fragment.
    const blockCut = report(
      'students/week-01.yaml',
      entry('ann') + '  - name: "bo"\n    github_username: "bo"\n    container_image: >-\n',
    );
    expect(outcome(decide([blockCut], lastGood(good('ann'), good('bo'), good('cy'))))).toContain(
      'cy:kept:ghcr.io/cy/app:v0',
    );
    // Cut after bo's login: cy may have come after bo, so the last entry holds whoever it names.
    const hasLogin = report('students/week-01.yaml', entry('ann') + '  - name: "bo"\n    github_username: "bo"\n');
    expect(outcome(decide([hasLogin], lastGood(good('ann'), good('bo'), good('cy'))))).toEqual([
      'ann:deployed:ghcr.io/ann/app:v1',
      'bo:kept:ghcr.io/bo/app:v0',
      'cy:kept:ghcr.io/cy/app:v0',
    ]);
    // The same entry before another one is bo breaking their own: cy, who left, is removed.
    const midFile = report(
      'students/week-01.yaml',
      entry('ann') + '  - name: "bo"\n    github_username: "bo"\n' + entry('dee'),
    );
    expect(outcome(decide([midFile], lastGood(good('ann'), good('bo'), good('cy'))))).toEqual([
      'ann:deployed:ghcr.io/ann/app:v1',
      'bo:kept:ghcr.io/bo/app:v0',
      'dee:deployed:ghcr.io/dee/app:v1',
    ]);
  });

  test('a fragment before other entries that names its login is that student’s alone: removals go on', () => {
    // A student waiting for their image (no container_image yet), running or not; bo left the roster.
    const waiting = '  - name: "Sam"\n    github_username: "sam"\n';
    for (const goods of [lastGood(good('ann'), good('bo')), lastGood(good('ann'), good('bo'), good('sam'))]) {
      const i = decide([report('students/week-01.yaml', entry('ann') + waiting + entry('dee'))], goods);
      expect(outcome(i).filter((o) => o.startsWith('bo:'))).toEqual([]);
    }
    // Without a login it could be anyone's, wherever it is.
    const anon = report('students/week-01.yaml', entry('ann') + '  - name: "Sam"\n' + entry('dee'));
    expect(outcome(decide([anon], lastGood(good('ann'), good('bo'))))).toContain('bo:kept:ghcr.io/bo/app:v0');
  });

  test('only students who are not rendered are left as found: a deployed student’s routes of another kind go', () => {
    // Both ran with Ingresses; the course moves to Gateway API routes while bo's entry breaks (no record of it).
    const before = decide([report('students/week-01.yaml', entry('ann') + entry('bo'))]).desired!.objects;
    const routing = { mode: 'httproute', parentRefs: [{ name: 'gateway', namespace: 'infra' }] };
    const gateway = loadConfig({ env: {}, overrides: { render: { routing } } });
    const roster = [report('students/week-01.yaml', entry('ann') + entry('bo', 'ghcr.io/bo/app:v1', '    port: 0\n'))];
    const after = interpretReports(roster, new Map(), gateway, { revision: 'r', lastGood: new Map() });
    const plan = planChanges(after.desired!.objects, before, {
      protection: after.protection,
      maxPruneFraction: 1,
      allowMassPrune: false,
      leftAsFound: after.desired!.leftAsFound,
    });
    expect(plan.prune.map((r) => `${r.kind}/${r.name}`).sort()).toEqual([
      'Ingress/student-ann',
      'Ingress/student-ann--latest',
    ]);
    expect(plan.leftAsFound.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/student-bo',
      'Ingress/student-bo',
      'Ingress/student-bo--latest',
      'Service/student-bo',
    ]);
  });

  test('a student left as found gives up the plain path’s route when another week of theirs now has it', () => {
    const before = decide([report('students/week-01.yaml', entry('bo'))]).desired!.objects;
    // bo's week-1 entry breaks (no record of it) while their week-2 entry is new: one path, one route.
    const broken = report('students/week-01.yaml', entry('bo', 'ghcr.io/bo/app:v1', '    port: 0\n'));
    const after = decide([broken, report('students/week-02.yaml', entry('bo'), 2)]);
    const plan = planChanges(after.desired!.objects, before, {
      protection: after.protection,
      maxPruneFraction: 1,
      allowMassPrune: false,
      leftAsFound: after.desired!.leftAsFound,
    });
    expect(plan.prune.map((r) => `${r.namespace}/${r.kind}/${r.name}`)).toEqual([
      'container-course-week01/Ingress/student-bo--latest',
    ]);
    expect(plan.leftAsFound.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/student-bo',
      'Ingress/student-bo',
      'Service/student-bo',
    ]);
  });

  test('a whole entry with errors (a private image, a bad port) does not hold removals back', () => {
    const verdicts = new Map<string, Verdict>([['ghcr.io/dee/app:v1', { kind: 'private', detail: 'token refused' }]]);
    const roster = entry('ann') + entry('cy', 'ghcr.io/cy/app:v1', '    port: 0\n') + entry('dee');
    const i = decide([report('students/week-01.yaml', roster)], lastGood(good('ann'), good('bo')), verdicts);
    expect(outcome(i)).toEqual(['ann:deployed:ghcr.io/ann/app:v1', 'cy:absent:-', 'dee:absent:-']);
  });

  test('the held week names the fragments’ lines, the first one’s own error and exactly the students it keeps', () => {
    // ann's bad port comes first, so the error named must be the fragment's own; two fragments are named together.
    const roster =
      entry('ann', 'ghcr.io/ann/app:v1', '    port: 0\n') + '  - name: "Sam"\n' + entry('cy') + '  - name: "Bo"\n';
    const i = decide([report('students/week-01.yaml', roster)], lastGood(good('bo'), good('dee')));
    expect(i.desired!.held).toEqual([
      {
        namespace: 'container-course-week01',
        file: 'students/week-01.yaml',
        lines: [10, 14],
        problem: 'Entry 2 has no "github_username".',
        students: ['bo', 'dee'],
      },
    ]);
    expect(kept(i)).toContain(
      "bo: entries with errors on lines 10, 14 of students/week-01.yaml could be what is left of this student's; keeping the last-known-good version until fixed or removed",
    );
  });

  test('removals in other weeks go on; once the entry is fixed, its week’s go through', () => {
    const week2 = report('students/week-02.yaml', entry('eve'), 2);
    const goods = lastGood(
      good('ann'),
      good('bo'),
      good('eve', 'container-course-week02'),
      good('fay', 'container-course-week02'),
    );
    const cut = decide([report('students/week-01.yaml', entry('ann') + '  - n\n'), week2], goods);
    expect(outcome(cut)).toEqual([
      'ann:deployed:ghcr.io/ann/app:v1',
      'eve:deployed:ghcr.io/eve/app:v1',
      'bo:kept:ghcr.io/bo/app:v0',
    ]);
    const fixed = decide([report('students/week-01.yaml', entry('ann')), week2], goods);
    expect(outcome(fixed)).toEqual(['ann:deployed:ghcr.io/ann/app:v1', 'eve:deployed:ghcr.io/eve/app:v1']);
  });
});

describe('namespaces', () => {
  test('only the template’s namespaces and allowed ones; never kube-* or default', () => {
    const isCourse = courseNamespaces('{course}-week{week:02}', 'container-course', ['guest-*', 'lab']);
    expect(['container-course-week01', 'container-course-week12', 'guest-x', 'lab'].filter(isCourse)).toHaveLength(4);
    expect(['kube-system', 'default', 'container-course-weekly', 'lab2', 'other', 'kube-guest'].some(isCourse)).toBe(
      false,
    );
    expect(courseNamespaces('kube-{week}', 'c', ['kube-*'])('kube-1')).toBe(false);
  });

  test('a namespace outside the course is a file-level error on its line; nothing of the file renders', () => {
    const i = decide([report('students/week-05.yaml', entry('mallory'), 5, '  namespace: kube-system\n')]);
    expect(i.reports[0]!.findings).toEqual([
      expect.objectContaining({ code: 'namespace-not-allowed', severity: 'error', line: 4 }),
    ]);
    expect(i.desired!.objects).toEqual([]);
  });

  test('two files claiming one namespace: the later by name is refused, naming the other, and protects it', () => {
    const i = decide([report('students/week-01.yml', entry('cy')), report('students/week-01.yaml', entry('ann'))]);
    const refused = i.reports.find((r) => r.file === 'students/week-01.yml')!;
    expect(refused.complete).toBe(false);
    expect(refused.findings.find((f) => f.severity === 'error')).toMatchObject({
      code: 'namespace-conflict',
      message: expect.stringContaining('already holds the week of students/week-01.yaml'),
    });
    expect(outcome(i)).toEqual(['ann:deployed:ghcr.io/ann/app:v1']);
    expect([...i.protection.namespaces]).toEqual(['container-course-week01']);
  });

  test("another week's namespace is refused; a listed one may be named by any week", () => {
    const other = decide([report('students/week-02.yaml', entry('bo'), 2, '  namespace: container-course-week01\n')]);
    expect(other.reports[0]!.findings).toEqual([
      expect.objectContaining({
        code: 'namespace-not-allowed',
        message: expect.stringContaining('not allowed for week 2'),
      }),
    ]);
    const listed = interpretReports(
      [report('students/week-02.yaml', entry('bo'), 2, '  namespace: lab-1\n')],
      new Map(),
      loadConfig({ env: {}, overrides: { render: { allowedNamespaces: ['lab-*'] } } }),
      { revision: 'r', lastGood: new Map() },
    );
    expect(listed.reports[0]!.findings).toEqual([]);
    expect(listed.desired!.weeks.map((w) => w.namespace)).toEqual(['lab-1']);
  });
});

test('the plain path goes to each student’s newest week', () => {
  const i = decide([report('students/week-01.yaml', entry('ann')), report('students/week-02.yaml', entry('ann'), 2)]);
  const routes = i
    .desired!.objects.filter((o) => o.kind === 'Ingress')
    .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  expect(routes.sort()).toEqual([
    'container-course-week01/student-ann',
    'container-course-week02/student-ann',
    'container-course-week02/student-ann--latest',
  ]);
});

describe('what each student gets, and why', () => {
  const plans = (i: ReturnType<typeof decide>) =>
    i.desired!.students.map((s) => ({
      login: s.githubUsername,
      name: s.name,
      deployment: s.deployment,
      reason: s.reason,
      verdict: s.verdict,
      findings: s.findings.map((f) => f.code),
    }));

  test('kept for a registry outage or an entry with errors; absent with the entry’s own findings', () => {
    const verdicts = new Map<string, Verdict>([
      ['ghcr.io/ann/app:v1', { kind: 'unreachable', reason: 'timeout' }],
      ['ghcr.io/dee/app:v1', { kind: 'private', detail: 'token refused' }],
    ]);
    const roster =
      entry('ann') + entry('bo', 'ghcr.io/bo/app:v1', '    port: 0\n') + entry('cy', 'nope') + entry('dee');
    const i = decide([report('students/week-01.yaml', roster)], lastGood(good('ann'), good('bo')), verdicts);
    expect(plans(i)).toEqual([
      {
        login: 'ann',
        name: 'ann',
        deployment: 'kept',
        reason: 'the registry could not confirm the new image (unreachable); keeping the last-known-good version',
        verdict: 'unreachable',
        findings: ['image-unreachable'],
      },
      {
        login: 'bo',
        name: 'bo',
        deployment: 'kept',
        reason: 'the entry has errors; keeping the last-known-good version',
        verdict: undefined,
        findings: [expect.stringMatching(/^port-/)],
      },
      {
        login: 'cy',
        name: 'cy',
        deployment: 'absent',
        reason: 'the entry has errors',
        verdict: undefined,
        findings: ['image-owner-mismatch', 'image-registry-not-allowed', 'image-tag-missing'],
      },
      {
        login: 'dee',
        name: 'dee',
        deployment: 'absent',
        reason: 'the entry has errors',
        verdict: undefined,
        findings: ['image-private'],
      },
    ]);
  });

  test('logins match their last-known-good whatever their case; only what is deployed fresh is recorded', () => {
    const roster = entry('Ann', 'ghcr.io/ann/app:v1', '    port: 0\n') + entry('Gus', 'ghcr.io/gus/app:v1');
    const i = decide([report('students/week-01.yaml', roster)], lastGood(good('ann')));
    expect(outcome(i)).toEqual(['ann:kept:ghcr.io/ann/app:v0', 'Gus:deployed:ghcr.io/gus/app:v1']);
    expect([...i.desired!.fresh.keys()]).toEqual(['container-course-week01/gus']);
    expect(i.desired!.fresh.get('container-course-week01/gus')).toMatchObject({
      week: { file: 'students/week-01.yaml', week: 1, namespace: 'container-course-week01' },
      entry: { githubUsername: 'Gus', containerImage: 'ghcr.io/gus/app:v1' },
      digest: undefined,
    });
  });

  test('a running student who changes their image gets the new one once the registry confirms it, or unchecked', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const verdicts = new Map<string, Verdict>([
      [
        'ghcr.io/ann/app:v1',
        { kind: 'pullable', digest, mediaType: 'application/vnd.oci.image.index.v1+json', platforms: [] },
      ],
    ]);
    const i = decide(
      [report('students/week-01.yaml', entry('ann') + entry('bo'))],
      lastGood(good('ann'), good('bo')),
      verdicts,
    );
    expect(outcome(i)).toEqual([`ann:deployed:ghcr.io/ann/app@${digest}`, 'bo:deployed:ghcr.io/bo/app:v1']);
    expect([...i.desired!.fresh.values()].map((g) => `${g.entry.containerImage} ${g.digest ?? '-'}`)).toEqual([
      `ghcr.io/ann/app:v1 ${digest}`,
      'ghcr.io/bo/app:v1 -',
    ]);
  });

  test('a login listed twice is decided once', () => {
    const i = decide([report('students/week-01.yaml', entry('ann') + entry('ann'))], lastGood(good('ann')));
    expect(outcome(i)).toEqual(['ann:kept:ghcr.io/ann/app:v0']);
  });

  test('students kept from a refused file join the week of the file that holds their namespace', () => {
    const cy = good('cy');
    const refusedCy = { ...cy, week: { ...cy.week, file: 'students/week-01.yml' } };
    const i = decide(
      [report('students/week-01.yml', entry('cy')), report('students/week-01.yaml', entry('ann'))],
      lastGood(refusedCy, good('ann')),
    );
    expect(plans(i).map((p) => `${p.login}:${p.deployment}:${p.reason ?? '-'}`)).toEqual([
      'ann:deployed:-',
      'cy:kept:the roster file has errors; keeping the last-known-good version',
    ]);
    const files = new Set(i.desired!.objects.map((o) => o.metadata.annotations?.['classops.dev/source-file']));
    expect([...files]).toEqual(['students/week-01.yaml']);
    expect(i.desired!.objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual([
      'student-ann',
      'student-cy',
    ]);
  });

  test('a last-known-good whose name no longer renders is not deployed, and its file says why', () => {
    const broken = validateRoster('students/week-01.yaml', Buffer.from('students: [\n'), config.policy);
    const i = decide(
      [broken, report('students/week-02.yaml', entry('cy'), 2)],
      lastGood(good('ann'), good('bad_login')),
    );
    expect(plans(i).map((p) => `${p.login}:${p.deployment}`)).toEqual(['cy:deployed', 'ann:kept', 'bad_login:absent']);
    expect(i.desired!.objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name)).toEqual([
      'student-ann',
      'student-cy',
    ]);
    expect(i.reports.map((r) => r.findings.filter((f) => f.code === 'render-name-collision').length)).toEqual([1, 0]);
  });

  test('a broken file keeps protecting every namespace its students last ran in, whatever it is called now', () => {
    const roster = (g: LastGood) => ({ ...g, week: { ...g.week, file: 'students/roster.yaml' } });
    const broken = validateRoster('students/roster.yaml', Buffer.from('students: [\n'), config.policy);
    const i = decide(
      [broken],
      lastGood(roster(good('ann', 'container-course-week03')), roster(good('bo', 'container-course-week04'))),
    );
    expect([...i.protection.namespaces]).toEqual(['container-course-week03', 'container-course-week04']);
    expect(i.protection.unknown).toBe(false);
    expect(outcome(i)).toEqual(['ann:kept:ghcr.io/ann/app:v0', 'bo:kept:ghcr.io/bo/app:v0']);
  });
});

describe('the plain path and the order of weeks', () => {
  const listed = loadConfig({ env: {}, overrides: { render: { allowedNamespaces: ['lab-*'] } } });
  const latestRoutes = (i: ReturnType<typeof decide>) =>
    i
      .desired!.objects.filter((o) => o.kind === 'Ingress' && o.metadata.name.endsWith('--latest'))
      .map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

  test('the newest week has it whatever the order of the files; weeks come out by namespace', () => {
    const i = decide([
      report('students/week-03.yaml', entry('bo'), 3),
      report('students/week-01.yaml', entry('ann') + entry('bo')),
      report('students/week-02.yaml', entry('ann'), 2),
    ]);
    expect(latestRoutes(i)).toEqual([
      'container-course-week02/student-ann--latest',
      'container-course-week03/student-bo--latest',
    ]);
    expect(i.desired!.weeks.map((w) => w.namespace)).toEqual([
      'container-course-week01',
      'container-course-week02',
      'container-course-week03',
    ]);
    // The reports stay in the order they were given.
    expect(i.reports.map((r) => r.file)).toEqual([
      'students/week-03.yaml',
      'students/week-01.yaml',
      'students/week-02.yaml',
    ]);
  });

  test('an older week never has it, even in a namespace that sorts later', () => {
    const week3 = report('students/week-03.yaml', entry('ann'), 3);
    const lab = report('students/lab.yaml', entry('ann'), 2, '  namespace: lab-1\n');
    for (const order of [
      [week3, lab],
      [lab, week3],
    ])
      expect(latestRoutes(interpretReports(order, new Map(), listed, { revision: 'r', lastGood: new Map() }))).toEqual([
        'container-course-week03/student-ann--latest',
      ]);
  });

  test('two files of one week: the later namespace has it, in either order', () => {
    const week2 = report('students/week-02.yaml', entry('ann'), 2);
    const lab = report('students/lab.yaml', entry('ann'), 2, '  namespace: lab-1\n');
    const run = (reports: ReturnType<typeof report>[]) =>
      interpretReports(reports, new Map(), listed, { revision: 'r', lastGood: new Map() });
    expect(latestRoutes(run([week2, lab]))).toEqual(['lab-1/student-ann--latest']);
    expect(latestRoutes(run([lab, week2]))).toEqual(['lab-1/student-ann--latest']);
  });
});

describe('namespace findings and protection', () => {
  test('a namespace outside the course: the finding says where it may go, and only the week’s own is protected', () => {
    const i = decide([report('students/week-05.yaml', entry('mallory'), 5, '  namespace: kube-system\n')]);
    expect(i.reports[0]!.findings[0]).toMatchObject({
      message:
        'metadata.namespace "kube-system" is not allowed for week 5: classops deploys week 5 only into "container-course-week05" or a namespace an instructor listed.',
      hint: 'Remove metadata.namespace (the course picks it), or ask an instructor to add it to render.allowedNamespaces.',
    });
    expect([...i.protection.namespaces]).toEqual(['container-course-week05']);
  });

  test('a conflict refuses the later file in either order, says what to do, and protects its header’s namespace', () => {
    const listed = loadConfig({ env: {}, overrides: { render: { allowedNamespaces: ['lab-*'] } } });
    const first = report('students/week-02.yaml', entry('ann'), 2, '  namespace: lab-1\n');
    const second = report('students/week-03.yaml', entry('bo'), 3, '  namespace: lab-1\n');
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const i = interpretReports(order, new Map(), listed, { revision: 'r', lastGood: new Map() });
      const refused = i.reports.find((r) => r.file === 'students/week-03.yaml')!;
      expect(refused.findings).toEqual([
        expect.objectContaining({
          code: 'namespace-conflict',
          message:
            'Namespace lab-1 already holds the week of students/week-02.yaml; a namespace holds one roster file. Nothing in it is deployed or removed from this file until one of the two files gives it up.',
          hint: 'Give each week its own file and namespace: remove the copy, or set another metadata.week.',
        }),
      ]);
      expect(i.reports.find((r) => r.file === 'students/week-02.yaml')!.complete).toBe(true);
      expect([...i.protection.namespaces].sort()).toEqual(['container-course-week03', 'lab-1']);
    }
  });

  test('a new file never takes a namespace from the file deployed there, even when it sorts first', () => {
    const listed = loadConfig({ env: {}, overrides: { render: { allowedNamespaces: ['lab-*'] } } });
    const running = report('students/week-03.yaml', entry('bo'), 3, '  namespace: lab-1\n');
    const newcomer = report('students/week-02.yaml', entry('mallory'), 2, '  namespace: lab-1\n');
    const bo = { ...good('bo'), week: { file: 'students/week-03.yaml', week: 3, namespace: 'lab-1' } };
    const i = interpretReports([newcomer, running], new Map(), listed, {
      revision: 'r',
      lastGood: lastGood(bo),
    });
    expect(i.reports.find((r) => r.file === 'students/week-03.yaml')!.complete).toBe(true);
    expect(i.reports.find((r) => r.file === 'students/week-02.yaml')!.findings).toEqual([
      expect.objectContaining({
        code: 'namespace-conflict',
        message: expect.stringContaining('Namespace lab-1 already holds the week of students/week-03.yaml'),
      }),
    ]);
    expect(i.desired!.students.map((s) => `${s.githubUsername}:${s.deployment}`)).toEqual(['bo:deployed']);
  });

  test('while a file is broken, no other file may take the namespace it last ran in, even by naming its week', () => {
    const broken = validateRoster('students/week-01.yaml', Buffer.from('students: [\n'), config.policy);
    const squatter = report('students/extra.yaml', entry('eve'), 1);
    const i = decide([broken, squatter], lastGood(good('ann')));
    expect(i.reports.find((r) => r.file === 'students/extra.yaml')!.findings).toEqual([
      expect.objectContaining({ code: 'file-name' }),
      expect.objectContaining({
        code: 'namespace-conflict',
        message: expect.stringContaining(
          'Namespace container-course-week01 holds the week of students/week-01.yaml, which cannot be read now',
        ),
      }),
    ]);
    expect(outcome(i)).toEqual(['ann:kept:ghcr.io/ann/app:v0']);
    expect([...i.protection.namespaces]).toEqual(['container-course-week01']);
    // Repaired, the file takes its week back as before; the other file is the one refused.
    const repaired = decide([report('students/week-01.yaml', entry('ann')), squatter], lastGood(good('ann')));
    expect(outcome(repaired)).toEqual(['ann:deployed:ghcr.io/ann/app:v1']);
    expect(repaired.reports.find((r) => r.file === 'students/extra.yaml')!.complete).toBe(false);
    // Renamed while broken: the week it could be is still held from the newcomer.
    const renamed = validateRoster('students/week-01.yml', Buffer.from('students: [\n'), config.policy);
    const meanwhile = decide([renamed, squatter], lastGood(good('ann')));
    expect(meanwhile.reports.find((r) => r.file === 'students/extra.yaml')!.complete).toBe(false);
    expect(outcome(meanwhile)).toEqual(['ann:kept:ghcr.io/ann/app:v0']);
  });

  test('a template that gives a namespace the course may never touch is refused', () => {
    const kube = loadConfig({ env: {}, overrides: { render: { namespaceTemplate: 'kube-week{week:02}' } } });
    const i = interpretReports([report('students/week-01.yaml', entry('ann'))], new Map(), kube, {
      revision: 'r',
      lastGood: new Map(),
    });
    expect(i.reports[0]!.findings.map((f) => f.code)).toEqual(['namespace-not-allowed']);
    expect(i.desired!.objects).toEqual([]);
  });

  test('only files that are not complete protect namespaces', () => {
    const broken = validateRoster('students/week-01.yaml', Buffer.from('students: [\n'), config.policy);
    const i = decide([report('students/week-02.yaml', entry('cy'), 2), broken]);
    expect([...i.protection.namespaces]).toEqual(['container-course-week01']);
    expect([...i.protection.owned]).toEqual(['container-course-week02']);
    expect(i.protection.unknown).toBe(false);
  });
});
