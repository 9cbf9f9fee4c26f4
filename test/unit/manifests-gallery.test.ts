/** manifests/gallery.yaml: the gallery's own Deployment, valid, hardened, and allowed only to read Services. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { validateKubeObject } from '../support/kube-schemas.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };
const objects = parseAllDocuments(readFileSync(new URL('../../manifests/gallery.yaml', import.meta.url), 'utf8')).map(
  (d) => d.toJS() as Obj,
);
const find = (kind: string) => objects.find((o) => o.kind === kind)!;

test('every object is valid for the Kubernetes API', () => {
  expect(objects.map((o) => o.kind)).toEqual([
    'ServiceAccount',
    'ClusterRole',
    'ClusterRoleBinding',
    'Deployment',
    'Service',
  ]);
  for (const o of objects) expect(() => validateKubeObject(o)).not.toThrow();
});

test('the gallery may only list and watch Services', () => {
  expect(find('ClusterRole')['rules']).toEqual([
    { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
  ]);
});

test('it runs `classops gallery` hardened, probing /healthz and /readyz on the gallery port', () => {
  const container = find('Deployment')['spec'].template.spec.containers[0];
  expect(container.args[0]).toBe('gallery');
  expect(container.ports).toEqual([{ name: 'http', containerPort: 8081 }]);
  expect(container.securityContext).toEqual({
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  expect([container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path]).toEqual([
    '/readyz',
    '/healthz',
  ]);
});
