/**
 * The course guard around a real folder target: whatever it is asked, it reads, writes and
 * deletes nothing outside the course's namespaces, and nothing of a kind classops does not manage.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { guardTarget, OutsideCourseError } from '../../src/cluster/course-guard.js';
import { DirectoryTarget } from '../../src/cluster/directory.js';
import { loadConfig } from '../../src/config.js';
import { courseNamespacesOf } from '../../src/pipeline/weeks.js';
import type { Target } from '../../src/cluster/target.js';
import type { KubeObject } from '../../src/render/objects.js';
import { tempDir } from '../support/temp.js';

const COURSE_NS = 'container-course-week01';
const isCourseNamespace = courseNamespacesOf(loadConfig({ env: {} })).isCourseNamespace;

const object = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    labels: { 'app.kubernetes.io/managed-by': 'classops', 'classops.dev/student': 'ann' },
  },
  spec: {},
});
const service = (namespace: string) => object('v1', 'Service', 'student-ann', namespace);
const deployment = (namespace: string) => object('apps/v1', 'Deployment', 'student-ann', namespace);
const namespace = (name: string) => object('v1', 'Namespace', name);
const secret = (ns: string) => object('v1', 'Secret', 'student-ann', ns);

/** A folder target, unguarded (what is really there) and guarded (what the reconciler gets). */
function folder() {
  const dir = join(tempDir('classops-course-guard-'), 'out');
  const raw = new DirectoryTarget(dir);
  return { dir, raw, guarded: guardTarget(raw, isCourseNamespace) };
}
const files = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.yaml'))
        .sort()
    : [];

describe('guardTarget', () => {
  test('writes a managed kind into a course namespace, and the course namespace itself', async () => {
    const { dir, guarded } = folder();
    expect(guarded.description).toBe(`folder ${dir}`);
    await guarded.apply(namespace(COURSE_NS));
    await guarded.apply(service(COURSE_NS));
    await guarded.apply(deployment(COURSE_NS));
    expect(files(dir)).toEqual([
      `_cluster/namespace-${COURSE_NS}.yaml`,
      `${COURSE_NS}/deployment-student-ann.yaml`,
      `${COURSE_NS}/service-student-ann.yaml`,
    ]);
    expect([...(await guarded.health()).keys()]).toEqual([`${COURSE_NS}/ann`]);
    await guarded.finishPass?.([]);
    expect(existsSync(join(dir, '.classops-index.json'))).toBe(true);
  });

  test.each([
    ['a managed kind outside the course', service('kube-system'), 'Service kube-system/student-ann'],
    ['a namespace outside the course', namespace('kube-system'), 'Namespace kube-system'],
    ['a kind classops does not manage, in a course namespace', secret(COURSE_NS), `Secret ${COURSE_NS}/student-ann`],
    [
      'a managed kind name under another API version',
      object('extensions/v1beta1', 'Deployment', 'student-ann', COURSE_NS),
      `Deployment ${COURSE_NS}/student-ann`,
    ],
    ['a namespaced kind with no namespace', object('v1', 'Service', COURSE_NS), `Service ${COURSE_NS}`],
  ])('refuses to write %s, and writes nothing', async (_what, refused, described) => {
    const { dir, guarded } = folder();
    const error = await guarded.apply(refused).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutsideCourseError);
    expect(String(error)).toBe(
      `OutsideCourseError: refusing to touch ${described}: not a kind classops manages in one of the course's namespaces`,
    );
    expect(files(dir)).toEqual([]);
  });

  test('deletes only in the course: what lies outside stays', async () => {
    const { dir, raw, guarded } = folder();
    for (const o of [service(COURSE_NS), service('kube-system'), secret(COURSE_NS)]) await raw.apply(o);
    await expect(
      guarded.remove({ apiVersion: 'v1', kind: 'Service', namespace: 'kube-system', name: 'student-ann' }),
    ).rejects.toThrow(OutsideCourseError);
    await expect(
      guarded.remove({ apiVersion: 'v1', kind: 'Secret', namespace: COURSE_NS, name: 'student-ann' }),
    ).rejects.toThrow(/refusing to touch Secret/);
    await guarded.remove({ apiVersion: 'v1', kind: 'Service', namespace: COURSE_NS, name: 'student-ann' });
    expect(files(dir)).toEqual([`${COURSE_NS}/secret-student-ann.yaml`, 'kube-system/service-student-ann.yaml']);
  });

  test('passes on what the target vouches for; a target that vouches for nothing (a cluster) gets nothing vouched', async () => {
    const { raw, guarded } = folder();
    await guarded.apply(service(COURSE_NS));
    const [listed] = await guarded.listManaged();
    expect([guarded.writtenAsIs?.(listed!), raw.writtenAsIs(listed!)]).toEqual([true, true]);
    // Without the target's word, every object is compared field by field and none is rewritten unasked.
    const cluster: Target = {
      description: 'cluster',
      listManaged: async () => [],
      apply: async () => undefined,
      remove: async () => undefined,
      health: async () => new Map(),
      event: async () => undefined,
    };
    const unvouched = guardTarget(cluster, isCourseNamespace);
    expect([unvouched.writtenAsIs?.(listed!), unvouched.needsRewrite?.(listed!)]).toEqual([false, false]);
  });

  test('lists only managed kinds in course namespaces', async () => {
    const { raw, guarded } = folder();
    const inside = [namespace(COURSE_NS), service(COURSE_NS)];
    for (const o of [...inside, namespace('kube-system'), service('kube-system'), secret(COURSE_NS)])
      await raw.apply(o);
    expect(await raw.listManaged()).toHaveLength(5);
    expect(await guarded.listManaged()).toEqual(inside);
  });
});
