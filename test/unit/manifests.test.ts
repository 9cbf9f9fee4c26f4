import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { MANAGED_KINDS } from '../../src/cluster/target.js';
import { loadConfig } from '../../src/config.js';
import { validateKubeObject } from '../support/kube-schemas.js';
import { tempDir } from '../support/temp.js';

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: any };
const docs = parseAllDocuments(readFileSync(new URL('../../manifests/classops.yaml', import.meta.url), 'utf8'));
const objects = (Array.isArray(docs) ? docs : []).map((d) => d.toJS() as Obj);
const find = (kind: string) => objects.find((o) => o.kind === kind)!;
const PLURALS: Record<string, string> = {
  Namespace: 'namespaces',
  ResourceQuota: 'resourcequotas',
  LimitRange: 'limitranges',
  NetworkPolicy: 'networkpolicies',
  Middleware: 'middlewares',
  Service: 'services',
  Deployment: 'deployments',
  Ingress: 'ingresses',
  HTTPRoute: 'httproutes',
};

function allowed(
  rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>,
  group: string,
  resource: string,
): Set<string> {
  return new Set(
    rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.verbs),
  );
}

describe('install manifests', () => {
  test('every object is valid for the Kubernetes API', () => {
    expect(objects.map((o) => o.kind)).toEqual([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
      'ConfigMap',
      'Deployment',
      'Service',
    ]);
    for (const o of objects) expect(() => validateKubeObject(o)).not.toThrow();
  });

  test('RBAC grants what classops does to every kind it manages, and no more: namespaces are never deleted', () => {
    const rules = find('ClusterRole')['rules'];
    for (const { apiVersion, kind } of MANAGED_KINDS) {
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
      const verbs = allowed(rules, group, PLURALS[kind]!);
      expect([kind, [...verbs].sort()]).toEqual([
        kind,
        kind === 'Namespace'
          ? ['create', 'get', 'list', 'patch', 'watch']
          : ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      ]);
    }
    expect([...allowed(rules, '', 'pods')]).toEqual(['list']);
    expect([...allowed(rules, '', 'events')]).toEqual(['create']);
    expect(
      rules.some(
        (r: { verbs: string[]; resources: string[] }) =>
          r.verbs.includes('*') || r.resources.includes('*') || r.resources.includes('secrets'),
      ),
    ).toBe(false);
    expect([...allowed(find('Role')['rules'], 'coordination.k8s.io', 'leases')].sort()).toEqual([
      'create',
      'get',
      'update',
    ]);
  });

  test('two replicas with leader election, hardened, probing /healthz and /readyz', () => {
    const deployment = find('Deployment');
    expect(deployment['spec'].replicas).toBe(2);
    const container = deployment['spec'].template.spec.containers[0];
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect([container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path]).toEqual([
      '/readyz',
      '/healthz',
    ]);
    expect(container.env.map((e: { name: string }) => e.name)).toEqual(
      expect.arrayContaining(['POD_NAME', 'POD_NAMESPACE']),
    );
  });

  test('the ConfigMap holds a valid classops config', () => {
    const file = join(tempDir('classops-cm-'), 'classops.yaml');
    writeFileSync(file, find('ConfigMap')['data']['classops.yaml']);
    expect(loadConfig({ env: {}, file }).source).toMatchObject({ kind: 'git', branch: 'main', path: 'students' });
  });
});
