/**
 * State (README "What is never lost"): last-known-good read back from what a pass applied
 * (as a restarted controller does), and the record of passes that /api/status shows.
 */
import { reconcile } from '../../src/controller/reconciler.js';
import { textHash } from '../../src/canonical.js';
import { lastGoodFromLive, State, type PassRecord, type StudentStatus } from '../../src/controller/state.js';
import { courseNamespacesOf } from '../../src/pipeline/weeks.js';
import type { KubeObject } from '../../src/render/objects.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { entry, InProcessCourse, NS } from '../support/in-process.js';

describe('last-known-good read back from the cluster', () => {
  let api: FakeApiServer;
  let c: InProcessCourse;
  let live: KubeObject[];
  const DIGEST = `sha256:${'a'.repeat(64)}`;
  beforeAll(async () => {
    api = await new FakeApiServer().start();
    c = new InProcessCourse(api).week(entry('Ann', `ghcr.io/ann/app@${DIGEST}`) + entry('bo'));
    await reconcile(c.options);
    live = await c.target.listManaged();
  });
  afterAll(async () => {
    await api.stop();
  });

  const ann = () => structuredClone(live.find((o) => o.kind === 'Deployment' && o.metadata.name === 'student-ann')!);
  /** ann's Deployment with its entry annotation replaced. */
  const withEntry = (value: string | undefined) => {
    const d = ann();
    const annotations = { ...d.metadata.annotations };
    if (value === undefined) delete annotations['classops.dev/entry'];
    else annotations['classops.dev/entry'] = value;
    return { ...d, metadata: { ...d.metadata, annotations } } as KubeObject;
  };
  const readBack = (objects: readonly KubeObject[]) =>
    lastGoodFromLive(objects, courseNamespacesOf(c.config).weekMayLiveIn);
  const annEntry = () => JSON.parse(ann().metadata.annotations!['classops.dev/entry']!) as Record<string, unknown>;

  test('each applied student is read back from their Deployment: week, file, entry and pinned digest', () => {
    const good = readBack(live).lastGood;
    expect([...good.keys()]).toEqual([`${NS}/ann`, `${NS}/bo`]);
    expect(good.get(`${NS}/ann`)).toEqual({
      week: { file: `${c.folder}/week-01.yaml`, week: 1, namespace: NS },
      entry: {
        name: 'Ann',
        githubUsername: 'Ann',
        containerImage: `ghcr.io/ann/app@${DIGEST}`,
        studentEndpoint: '/student',
        healthEndpoint: '/health',
        port: 5000,
      },
      digest: DIGEST,
    });
    expect(good.get(`${NS}/bo`)!.digest).toBeUndefined();
    expect(c.state.lastGood!.get(`${NS}/ann`)!.entry).toEqual(good.get(`${NS}/ann`)!.entry);
  });

  test('a Deployment that does not say where it came from, or which week, is not read back', () => {
    const d = ann();
    const noFile = { ...d, metadata: { ...d.metadata, annotations: { ...d.metadata.annotations } } } as KubeObject;
    delete (noFile.metadata.annotations as Record<string, string>)['classops.dev/source-file'];
    const noNamespace = { ...d, metadata: { ...d.metadata, namespace: undefined } } as KubeObject;
    const week = (value: string | undefined) =>
      ({
        ...d,
        metadata: { ...d.metadata, labels: { ...d.metadata.labels, 'classops.dev/week': value } },
      }) as KubeObject;
    const noAnnotations = { ...d, metadata: { ...d.metadata, annotations: undefined } } as KubeObject;
    const noLabels = { ...d, metadata: { ...d.metadata, labels: undefined } } as KubeObject;
    for (const object of [
      noFile,
      noNamespace,
      week('1.5'),
      week('one'),
      week(''),
      week('0'),
      week('0x1'),
      week('1e0'),
      week(' 1 '),
      noAnnotations,
      noLabels,
    ])
      expect(readBack([object]).lastGood.size).toBe(0);
    // A file not named for a week says nothing against the label, which is read as a number.
    const unnamed = week('001');
    unnamed.metadata.annotations = {
      ...unnamed.metadata.annotations,
      'classops.dev/source-file': 'students/roster.yaml',
    };
    expect(readBack([unnamed]).lastGood.get(`${NS}/ann`)!.week.week).toBe(1);
  });

  test('an entry annotation that is missing, not JSON, or not a whole entry is not read back, and is reported', () => {
    const wrong = (field: string, value: unknown) => JSON.stringify({ ...annEntry(), [field]: value });
    for (const value of [
      undefined,
      'edited by hand',
      'null',
      '"Ann"',
      wrong('name', 1),
      wrong('githubUsername', undefined),
      wrong('containerImage', 7),
      wrong('studentEndpoint', null),
      wrong('healthEndpoint', false),
      wrong('port', '5000'),
    ]) {
      const { lastGood, refused } = readBack([withEntry(value)]);
      expect(lastGood.size).toBe(0);
      expect(refused).toEqual([
        { object: `Deployment ${NS}/student-ann`, problem: 'its classops.dev/entry is not a roster entry' },
      ]);
    }
    expect(readBack([withEntry(JSON.stringify(annEntry()))]).lastGood.size).toBe(1);
  });

  /** ann's Deployment running `image`, with `entry` fields changed in its record. */
  const edited = (fields: Record<string, unknown>, image?: string, label?: string) => {
    const d = withEntry(JSON.stringify({ ...annEntry(), ...fields }));
    if (label !== undefined) d.metadata.labels = { ...d.metadata.labels, 'classops.dev/student': label };
    if (image === undefined) return d;
    return { ...d, spec: { template: { spec: { containers: [{ name: 'app', image }] } } } } as KubeObject;
  };
  /** The same, written as classops writes a record: the hash and image annotations follow the entry. */
  const sealed = (fields: Record<string, unknown>, image?: string, label?: string) => {
    const d = edited(fields, image, label);
    const text = d.metadata.annotations!['classops.dev/entry']!;
    const containerImage = (JSON.parse(text) as { containerImage: string }).containerImage;
    d.metadata.annotations = {
      ...d.metadata.annotations,
      'classops.dev/entry-hash': textHash(text),
      'classops.dev/image': containerImage,
    };
    return d;
  };
  const refusal = (object: KubeObject) => {
    const { lastGood, refused } = readBack([object]);
    expect(lastGood.size).toBe(0);
    expect(refused.map((r) => r.object)).toEqual([`Deployment ${NS}/student-ann`]);
    return refused[0]!.problem;
  };

  test('a record edited by hand is not read back, whatever the Deployment runs', () => {
    const stale = /^its classops\.dev\/entry no longer matches its classops\.dev\/entry-hash$/;
    expect(refusal(edited({ containerImage: 'docker.io/evil/app:v1' }))).toMatch(stale);
    // The entry and the image edited together, the hash left as it was.
    expect(refusal(edited({ containerImage: 'docker.io/evil/app:v1', port: 22 }, 'docker.io/evil/app:v1'))).toMatch(
      stale,
    );
    expect(refusal(edited({ port: 22 }))).toMatch(stale);
    const otherImage = sealed({});
    otherImage.metadata.annotations = {
      ...otherImage.metadata.annotations,
      'classops.dev/image': 'docker.io/evil/app:v1',
    };
    expect(refusal(otherImage)).toBe("its classops.dev/image is not the recorded entry's image");
    const copy = sealed({});
    const renamed = { ...copy, metadata: { ...copy.metadata, name: 'student-ann-copy' } } as KubeObject;
    const { lastGood, refused } = readBack([renamed]);
    expect([lastGood.size, refused]).toEqual([
      0,
      [
        {
          object: `Deployment ${NS}/student-ann-copy`,
          problem: "it is not named student-ann, as the recorded student's Deployment is",
        },
      ],
    ]);
  });

  test('a record that breaks the rules every course has is not read back, and the refusal names the field', () => {
    const cases: Array<[KubeObject, RegExp]> = [
      [sealed({ containerImage: 'not an image' }, 'not an image'), /^container_image "not an image": /],
      [sealed({ name: 'Ann\u202eevil' }), /^name "Ann\\u202eevil": /],
      [sealed({ name: '' }), /^name "": The name is empty\.$/],
      [sealed({ githubUsername: 'week01' }, undefined, 'week01'), /^github_username "week01": .*cannot be a login/],
      [sealed({ githubUsername: 'bo' }), /^github_username "bo" is not the student the Deployment is for \("ann"\)$/],
      [sealed({ studentEndpoint: '//evil.example/x' }), /^student_endpoint "\/\/evil\.example\/x": /],
      [sealed({ healthEndpoint: '/health?x=1' }), /^health_endpoint "\/health\?x=1": /],
      [sealed({ port: 5000.5 }), /^port 5000\.5: Port 5000\.5 is not a whole number\.$/],
      [sealed({ port: 0 }), /^port 0: /],
      [sealed({ port: 70000 }), /^port 70000: /],
    ];
    for (const [object, problem] of cases) expect(refusal(object)).toMatch(problem);
    // A login written in another case is the same student.
    expect(readBack([sealed({ githubUsername: 'ANN' }, undefined, 'ann')]).refused).toEqual([]);
  });

  test("the course's policy is not asked: a student deployed under an older one is still read back", () => {
    // The policy allows ghcr.io only; the record and the Deployment agree on quay.io, as applied before a change.
    const image = `quay.io/ann/app@${DIGEST}`;
    const { lastGood, refused } = readBack([sealed({ containerImage: image }, image)]);
    expect(refused).toEqual([]);
    expect(lastGood.get(`${NS}/ann`)!.entry.containerImage).toBe(image);
  });

  test("a source file named for another week than the Deployment's label is not read back", () => {
    const d = ann();
    const moved = {
      ...d,
      metadata: {
        ...d.metadata,
        annotations: { ...d.metadata.annotations, 'classops.dev/source-file': 'students/week-02.yaml' },
      },
    } as KubeObject;
    expect(refusal(moved)).toBe(`its file "students/week-02.yaml" is week 2's, but the Deployment is labelled week 1`);
  });

  test("a week label and file edited together must still name the namespace's week", () => {
    const d = ann();
    const moved = {
      ...d,
      metadata: {
        ...d.metadata,
        labels: { ...d.metadata.labels, 'classops.dev/week': '02' },
        annotations: { ...d.metadata.annotations, 'classops.dev/source-file': 'students/week-02.yaml' },
      },
    } as KubeObject;
    expect(refusal(moved)).toBe(`week 2's students do not live in ${NS}`);
    // A namespace an instructor listed may hold any week.
    const listed = lastGoodFromLive([moved], () => true);
    expect(listed.lastGood.get(`${NS}/ann`)!.week).toEqual({ file: 'students/week-02.yaml', week: 2, namespace: NS });
  });

  test('only Deployments count; one whose container went missing keeps an intact record, unpinned', () => {
    const asService = { ...ann(), kind: 'Service' } as KubeObject;
    expect(readBack([asService]).lastGood.size).toBe(0);
    expect(readBack([{ ...ann(), spec: undefined }]).lastGood.get(`${NS}/ann`)!.digest).toBeUndefined();
    const noContainers = { template: { spec: { containers: [] } } };
    expect(readBack([{ ...ann(), spec: noContainers }]).lastGood.get(`${NS}/ann`)!.digest).toBeUndefined();
  });

  test('an image changed by hand under an intact record (kubectl set image) is drift: the entry stands, unpinned', () => {
    const { lastGood, refused } = readBack([edited({}, `docker.io/evil/miner@${DIGEST}`)]);
    expect(refused).toEqual([]);
    expect(lastGood.get(`${NS}/ann`)).toEqual(expect.objectContaining({ digest: undefined }));
    expect(lastGood.get(`${NS}/ann`)!.entry.containerImage).toBe(`ghcr.io/ann/app@${DIGEST}`);
  });

  test("the pin is read back from the image the Deployment runs: the entry's, at a digest (its own sha256, when it names one)", () => {
    const digestOf = (object: KubeObject) => readBack([object]).lastGood.get(`${NS}/ann`)!.digest;
    expect(digestOf(sealed({}, `ghcr.io/ann/app@${DIGEST}`))).toBe(DIGEST);
    // Another digest of an entry that names its own is not its pin.
    expect(digestOf(sealed({}, `ghcr.io/ann/app@sha256:${'b'.repeat(64)}`))).toBeUndefined();
    // One that names a sha512 digest runs the sha256 the registry computed for it.
    const sha512 = `ghcr.io/ann/app@sha512:${'e'.repeat(128)}`;
    expect(digestOf(sealed({ containerImage: sha512 }, `ghcr.io/ann/app@${DIGEST}`))).toBe(DIGEST);
    // A tag: as written, or pinned at the digest the registry confirmed.
    const tagged = (image: string) => digestOf(sealed({ containerImage: 'ghcr.io/ann/app:v1' }, image));
    expect(tagged('ghcr.io/ann/app:v1')).toBeUndefined();
    for (const other of [`sha256:${'c'.repeat(64)}`, `sha512:${'d'.repeat(128)}`])
      expect(tagged(`ghcr.io/ann/app@${other}`)).toBe(other);
    for (const image of [
      'ghcr.io/ann/app:v2',
      `ghcr.io/ann/app-other@${DIGEST}`,
      `ghcr.io/ann/app@sha256:${'a'.repeat(63)}`,
      `ghcr.io/ann/app@sha256:${'a'.repeat(64)}\nimage: evil`,
      'ghcr.io/ann/app@md5:abc',
    ])
      expect(tagged(image)).toBeUndefined();
  });
});

describe('the record of passes', () => {
  const student = (namespace: string, githubUsername: string): StudentStatus => ({
    namespace,
    week: 1,
    file: 'students/week-01.yaml',
    githubUsername,
    name: githubUsername,
    deployment: 'deployed',
    reason: undefined,
    image: 'ghcr.io/x/app:v1',
    verdict: undefined,
    findings: [],
    service: `student-${githubUsername.toLowerCase()}`,
    studentEndpoint: '/student',
    health: undefined,
  });
  const pass = (overrides: Partial<PassRecord>): PassRecord => ({
    revision: 'r1',
    result: 'success',
    lastGood: new Map(),
    files: [],
    students: [],
    errors: [],
    writes: 3,
    refusedPrunes: [],
    durationSeconds: 0.5,
    finishedAt: new Date('2026-11-23T10:00:00Z'),
    ...overrides,
  });

  test('before any pass: nothing known, and last-known-good is still to be read from the cluster', () => {
    const state = new State();
    expect(state.lastGood).toBeUndefined();
    expect(state.toJSON()).toEqual({
      reconcile: {
        revision: undefined,
        result: undefined,
        finishedAt: undefined,
        lastSuccessAt: undefined,
        error: undefined,
        writes: 0,
        durationSeconds: undefined,
        refusedPrunes: [],
      },
      files: [],
      students: [],
    });
  });

  test('a pass replaces everything; students are listed by namespace, then login', () => {
    const state = new State();
    state.commit(
      pass({
        students: [student('week02', 'ann'), student('week01', 'Cy'), student('week01', 'bo')],
        files: [
          { file: 'a.yaml', complete: true, week: 1, entries: 1, validEntries: 1, findings: [] },
          { file: 'b.yaml', complete: false, week: 2, entries: 0, validEntries: 0, findings: [] },
        ],
        refusedPrunes: ['too many'],
        errors: ['first', 'second'],
      }),
    );
    const json = state.toJSON() as { students: StudentStatus[]; reconcile: object; files: object[] };
    expect(json.students.map((s) => `${s.namespace}/${s.githubUsername}`)).toEqual([
      'week01/bo',
      'week01/Cy',
      'week02/ann',
    ]);
    expect(state.students.get('week01/cy')!.githubUsername).toBe('Cy');
    expect([...state.files.keys()]).toEqual(['a.yaml', 'b.yaml']);
    expect(json.reconcile).toEqual({
      revision: 'r1',
      result: 'success',
      finishedAt: '2026-11-23T10:00:00.000Z',
      lastSuccessAt: '2026-11-23T10:00:00.000Z',
      error: 'first',
      writes: 3,
      durationSeconds: 0.5,
      refusedPrunes: ['too many'],
    });

    state.commit(pass({ revision: 'r2', students: [student('week03', 'dee')], files: [] }));
    expect([...state.students.keys()]).toEqual(['week03/dee']);
    expect(state.files.size).toBe(0);
  });

  test('a partial pass keeps the last success time; a refused one moves it; a failure keeps all but the result', () => {
    const state = new State();
    const good = new Map([
      ['week01/ann', { week: { file: 'f', week: 1, namespace: 'week01' }, entry: {}, digest: undefined }],
    ]);
    state.commit(pass({ lastGood: good as never }));
    state.commit(pass({ revision: 'r2', result: 'partial', finishedAt: new Date('2026-11-23T11:00:00Z') }));
    expect(state.reconcile).toMatchObject({
      revision: 'r2',
      result: 'partial',
      finishedAt: '2026-11-23T11:00:00.000Z',
      lastSuccessAt: '2026-11-23T10:00:00.000Z',
    });
    state.commit(pass({ revision: 'r3', result: 'refused', finishedAt: new Date('2026-11-23T12:00:00Z') }));
    expect(state.reconcile.lastSuccessAt).toBe('2026-11-23T12:00:00.000Z');

    state.recordFailure(new Error('the API server is away'), new Date('2026-11-23T13:00:00Z'));
    expect(state.reconcile).toEqual({
      revision: 'r3',
      result: 'failure',
      finishedAt: '2026-11-23T13:00:00.000Z',
      lastSuccessAt: '2026-11-23T12:00:00.000Z',
      error: 'the API server is away',
      writes: 0,
      durationSeconds: 0.5,
      refusedPrunes: [],
    });
    expect(state.lastGood!.size).toBe(0); // the refused pass committed an empty one; the failure kept it
  });
});
