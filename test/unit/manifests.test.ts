import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run as runCel } from '@bufbuild/cel';
import { Ajv } from 'ajv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { MANAGED_KINDS } from '../../src/render/kinds.js';
import { envName, loadConfig } from '../../src/config.js';
import { renderChart } from '../../scripts/helm-template.mjs';
import { validateKubeObject } from '../support/kube-schemas.js';
import { tempDir } from '../support/temp.js';

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: any };
  [k: string]: any;
};
type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(root, 'helm/classops');
const EXAMPLES = ['values-course.yaml', 'values-locked.yaml'];
const readValues = (name: string) => parseYaml(readFileSync(join(root, 'helm/examples', name), 'utf8'));

const manifestDocs = parseAllDocuments(readFileSync(join(root, 'manifests/classops.yaml'), 'utf8'));
const manifest = (Array.isArray(manifestDocs) ? manifestDocs : []).map((d) => d.toJS() as Obj);
const render = (values: Record<string, unknown> = {}) => renderChart(CHART, { values }).map((d) => d.object);
const renderings: Array<[string, Obj[]]> = [
  ['manifests/classops.yaml', manifest],
  ['the chart with default values', render()],
  ...EXAMPLES.map((name): [string, Obj[]] => [`the chart with helm/examples/${name}`, render(readValues(name))]),
];

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');

/**
 * What a ServiceAccount may do, as the API server's RBAC authorizer decides it: the rules
 * of every (Cluster)Role bound to it, cluster-wide for ClusterRoleBindings, per namespace
 * for RoleBindings.
 */
function grants(objects: Obj[], account: string, namespace: string) {
  const roles = new Map(
    objects
      .filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role')
      .map((o) => [`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`, o['rules'] as Rule[]]),
  );
  const out: Array<{ scope: string; rule: Rule }> = [];
  for (const b of objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const bound = (b['subjects'] as Array<{ kind: string; name: string; namespace: string }>).some(
      (s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === namespace,
    );
    if (!bound) continue;
    const ref = b['roleRef'] as { kind: string; name: string };
    const key =
      ref.kind === 'ClusterRole' ? `ClusterRole//${ref.name}` : `Role/${b.metadata.namespace ?? ''}/${ref.name}`;
    const rules = roles.get(key);
    if (rules === undefined) throw new Error(`${b.kind} ${b.metadata.name} binds ${key}, which is not there`);
    const scope = b.kind === 'ClusterRoleBinding' ? '*' : b.metadata.namespace!;
    for (const rule of rules) out.push({ scope, rule });
  }
  return {
    /** Verbs on a resource in a scope ('*' = every namespace), for any name unless `name` is given. */
    verbs(group: string, resource: string, scope = '*', name?: string): string[] {
      const verbs = out
        .filter((g) => g.scope === '*' || g.scope === scope)
        .filter((g) => g.rule.apiGroups.includes(group) && g.rule.resources.includes(resource))
        .filter(
          (g) => g.rule.resourceNames === undefined || (name !== undefined && g.rule.resourceNames.includes(name)),
        )
        .flatMap((g) => g.rule.verbs);
      return [...new Set(verbs)].sort();
    },
    rules: out.map((g) => g.rule),
  };
}

/** The restricted Pod Security profile (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
function restrictedViolations(pod: any): string[] {
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  for (const flag of ['hostNetwork', 'hostPID', 'hostIPC']) if (pod[flag] === true) problems.push(flag);
  for (const v of pod.volumes ?? [])
    if (!Object.keys(v).every((k) => ['name', 'configMap', 'emptyDir', 'secret', 'projected'].includes(k)))
      problems.push(`volume ${v.name}`);
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${c.name}: allowPrivilegeEscalation`);
    if (sc.privileged === true) problems.push(`${c.name}: privileged`);
    if ((sc.runAsNonRoot ?? podContext.runAsNonRoot) !== true) problems.push(`${c.name}: runAsNonRoot`);
    if ((sc.runAsUser ?? podContext.runAsUser) === 0) problems.push(`${c.name}: runAsUser 0`);
    if ((sc.seccompProfile ?? podContext.seccompProfile)?.type !== 'RuntimeDefault')
      problems.push(`${c.name}: seccomp`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${c.name}: capabilities not dropped`);
    if ((sc.capabilities?.add ?? []).some((a: string) => a !== 'NET_BIND_SERVICE')) problems.push(`${c.name}: caps`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${c.name}: writable root file system`);
    if ((c.ports ?? []).some((p: { hostPort?: number }) => p.hostPort !== undefined))
      problems.push(`${c.name}: hostPort`);
  }
  return problems;
}

const deployment = (objects: Obj[], component: string) =>
  objects.find((o) => o.kind === 'Deployment' && o.metadata['labels']['app.kubernetes.io/component'] === component)!;

describe.each(renderings)('%s', (_name, objects) => {
  test('every object is valid for the Kubernetes API', () => {
    expect(objects.length).toBeGreaterThan(10);
    const problems = objects.flatMap((o) => {
      try {
        validateKubeObject(o);
        return [];
      } catch (error) {
        return [`${o.kind} ${o.metadata.name}: ${(error as Error).message}`];
      }
    });
    expect(problems).toEqual([]);
  });

  test('no Secret is rendered, and classops pods meet the restricted Pod Security profile', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const pods = objects.filter((o) => o.kind === 'Deployment');
    expect(pods.map((d) => d.metadata.name).sort()).toEqual(['classops', 'classops-gallery']);
    for (const d of pods)
      expect([d.metadata.name, restrictedViolations(d['spec'].template.spec)]).toEqual([d.metadata.name, []]);
  });

  test('RBAC grants the controller what it does to every managed kind and no more', () => {
    const locked = objects.some((o) => o.kind === 'RoleBinding' && o.metadata.name === 'classops-course');
    const can = grants(objects, 'classops', 'classops');
    const course = locked ? 'container-course-week01' : 'any-namespace';
    for (const { apiVersion, kind, plural: resource } of MANAGED_KINDS) {
      const group = groupOf(apiVersion);
      if (kind === 'Namespace') {
        // Never delete: that would take every student with it.
        expect(can.verbs(group, resource)).toEqual(
          locked ? ['list', 'watch'] : ['create', 'get', 'list', 'patch', 'watch'],
        );
        if (locked) expect(can.verbs(group, resource, '*', course)).toEqual(['get', 'list', 'patch', 'watch']);
        continue;
      }
      expect([kind, can.verbs(group, resource, course)]).toEqual([
        kind,
        ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      ]);
      // Writes reach only course namespaces when they are listed; reads stay cluster-wide (list, watch, heal).
      expect([kind, can.verbs(group, resource, 'kube-system')]).toEqual([
        kind,
        locked ? ['get', 'list', 'watch'] : ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      ]);
    }
    expect(can.verbs('', 'pods', course)).toEqual(['list']);
    expect(can.verbs('', 'events', course)).toEqual(['create']);
    expect(can.verbs('', 'secrets', course)).toEqual([]);
    expect(can.verbs('', 'pods', 'kube-system')).toEqual(locked ? [] : ['list']);
    expect(can.rules.some((r) => r.verbs.includes('*') || r.resources.includes('*') || r.apiGroups.includes('*'))).toBe(
      false,
    );
    expect(can.verbs('rbac.authorization.k8s.io', 'rolebindings', course)).toEqual([]);
    // The Lease: create (Kubernetes cannot limit create by name), get and update of this one only.
    expect(can.verbs('coordination.k8s.io', 'leases', 'classops', 'classops')).toEqual(['create', 'get', 'update']);
    expect(can.verbs('coordination.k8s.io', 'leases', 'classops', 'someone-else')).toEqual(['create']);
    expect(can.verbs('coordination.k8s.io', 'leases', 'kube-system')).toEqual([]);
  });

  test('the gallery reads Services and nothing else', () => {
    const can = grants(objects, 'classops-gallery', 'classops');
    expect(can.rules).toEqual([{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] }]);
    expect(deployment(objects, 'gallery')['spec'].template.spec.serviceAccountName).toBe('classops-gallery');
  });

  test('two controller replicas with leader election, probing /healthz and /readyz, a PDB for each component', () => {
    const controller = deployment(objects, 'controller');
    expect(controller['spec'].replicas).toBe(2);
    const container = controller['spec'].template.spec.containers[0];
    expect(container.args).toEqual(['run', '--config', '/etc/classops/classops.yaml']);
    expect([container.readinessProbe.httpGet.path, container.livenessProbe.httpGet.path]).toEqual([
      '/readyz',
      '/healthz',
    ]);
    expect(container.env.map((e: { name: string }) => e.name)).toEqual(
      expect.arrayContaining(['POD_NAME', 'POD_NAMESPACE']),
    );
    const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    expect(pdbs.map((p) => [p.metadata.name, p['spec'].maxUnavailable])).toEqual([
      ['classops', 1],
      ['classops-gallery', 1],
    ]);
    const gallery = deployment(objects, 'gallery')['spec'].template.spec.containers[0];
    expect(gallery.args).toEqual(['gallery', '--config', '/etc/classops/classops.yaml']);
  });

  test('the ConfigMap holds a valid classops.yaml, and the pods find every secret file it names', () => {
    const dir = tempDir('classops-cm-');
    try {
      const file = join(dir, 'classops.yaml');
      writeFileSync(
        file,
        objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'classops')!['data']['classops.yaml'],
      );
      const spec = deployment(objects, 'controller')['spec'].template.spec;
      const container = spec.containers[0];
      const env = Object.fromEntries(container.env.filter((e: any) => 'value' in e).map((e: any) => [e.name, e.value]));
      const config = loadConfig({ env, file });
      expect(container.ports[0].containerPort).toBe(config.server.port);
      expect(deployment(objects, 'gallery')['spec'].template.spec.containers[0].ports[0].containerPort).toBe(
        config.gallery.port,
      );
      for (const path of [config.source.tokenFile, config.github.webhookSecretFile, config.github.tokenFile]) {
        if (path === '') continue;
        // The file is an item of a Secret volume mounted where the config says.
        const mount = container.volumeMounts.find((m: any) => path.startsWith(`${m.mountPath}/`));
        const volume = spec.volumes.find((v: any) => v.name === mount?.name);
        expect(volume?.secret?.items?.map((i: any) => `${mount.mountPath}/${i.path}`)).toEqual([path]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('chart values', () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
  const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
  const defaults = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
  const deepMerge = (a: any, b: any): any =>
    typeof a === 'object' && a !== null && !Array.isArray(a) && typeof b === 'object' && b !== null && !Array.isArray(b)
      ? Object.fromEntries(
          [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, k in b ? deepMerge(a[k], b[k]) : a[k]]),
        )
      : b;

  test.each([['values.yaml', {}], ...EXAMPLES.map((n) => [n, readValues(n)])])(
    '%s passes values.schema.json',
    (_n, v) => {
      expect(validate(deepMerge(defaults, v)) ? [] : validate.errors).toEqual([]);
    },
  );

  test('values.schema.json refuses what Helm must not render', () => {
    for (const bad of [
      { config: { source: { kind: 'svn' } } },
      { config: { sourec: {} } },
      { secrets: { gitToken: { existingSecret: 'Bad Name', key: 'token' } } },
      { rbac: { courseNamespaces: ['kube system'] } },
      { routes: [{ name: 'x', enabled: true, service: 'database', paths: ['/x'] }] },
    ])
      expect([bad, validate(deepMerge(defaults, bad))]).toEqual([bad, false]);
  });

  test('secrets are referenced by name: set, the file is mounted and named through CLASSOPS_*_FILE', () => {
    const objects = render(readValues('values-course.yaml'));
    const container = deployment(objects, 'controller')['spec'].template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(env[envName(['source', 'tokenFile'])]).toBe('/var/run/classops/git-token/token');
    expect(env[envName(['github', 'webhookSecretFile'])]).toBe('/var/run/classops/webhook-secret/secret');
    expect(env[envName(['github', 'tokenFile'])]).toBe('/var/run/classops/github-token/token');
    const volumes = deployment(objects, 'controller')['spec'].template.spec.volumes.filter((v: any) => v.secret);
    expect(volumes.map((v: any) => [v.secret.secretName, v.secret.items[0].key])).toEqual([
      ['classops-github', 'token'],
      ['classops-github', 'webhook'],
      ['classops-github', 'statuses'],
    ]);
    expect(JSON.stringify(render())).not.toMatch(/secretName|CLASSOPS_\w+_FILE/);
  });

  test('the gallery and the webhook are routed the way students are: Ingress, or HTTPRoute on the Gateway', () => {
    const ingress = render(readValues('values-course.yaml')).filter((o) => o.kind === 'Ingress');
    expect(
      ingress.map((i) => {
        const rule = i['spec'].rules[0];
        const path = rule.http.paths[0];
        return [
          rule.host,
          path.path,
          path.backend.service.name,
          path.backend.service.port.number,
          i['spec'].ingressClassName,
        ];
      }),
    ).toEqual([
      ['course.example.edu', '/gallery', 'classops-gallery', 80, 'traefik'],
      ['course.example.edu', '/webhooks/github', 'classops', 8080, 'traefik'],
    ]);
    expect(ingress[0]!['spec'].tls).toEqual([{ hosts: ['course.example.edu'], secretName: 'course-tls' }]);
    const routes = render(readValues('values-locked.yaml')).filter((o) => o.kind === 'HTTPRoute');
    expect(
      routes.map((r) => [r['spec'].parentRefs, r['spec'].rules[0].matches, r['spec'].rules[0].backendRefs]),
    ).toEqual([
      [
        [{ name: 'course-gateway', namespace: 'gateway-system', sectionName: 'https' }],
        [{ path: { type: 'PathPrefix', value: '/gallery' } }],
        [{ name: 'classops-gallery', port: 80 }],
      ],
    ]);
    expect(render({ gallery: { enabled: false } }).filter((o) => /gallery/.test(o.metadata.name))).toEqual([]);
    // The gallery on a host of its own (an origin no student's app shares), with its own certificate.
    const course = readValues('values-course.yaml');
    const ownRoutes = course.routes.map((r: Obj) =>
      r['name'] === 'gallery' ? { ...r, host: 'gallery.example.edu', tlsSecretName: 'gallery-tls' } : r,
    );
    // Its links to students' apps must name the course host, or they would lead to the gallery's.
    expect(() => render({ ...course, routes: ownRoutes })).toThrow(
      "routes: the gallery has a host of its own (gallery.example.edu): set config.gallery.linkBase to the course host's origin (https://course.example.edu), or its links to students' apps lead to gallery.example.edu, where no app is",
    );
    const linked = { ...course.config, gallery: { ...course.config.gallery, linkBase: 'https://course.example.edu' } };
    const ownHost = render({ ...course, config: linked, routes: ownRoutes }).filter((o) => o.kind === 'Ingress');
    expect(ownHost.map((i) => [i['spec'].rules[0].host, i['spec'].tls])).toEqual([
      ['gallery.example.edu', [{ hosts: ['gallery.example.edu'], secretName: 'gallery-tls' }]],
      ['course.example.edu', [{ hosts: ['course.example.edu'], secretName: 'course-tls' }]],
    ]);
  });

  test('monitoring: ServiceMonitor, the PrometheusRule from monitoring/, the dashboard ConfigMap for the Grafana sidecar', () => {
    const objects = render(readValues('values-course.yaml'));
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor')!;
    expect(monitor['spec'].endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    expect(monitor.metadata['labels'].release).toBe('kube-prometheus-stack');
    const rule = objects.find((o) => o.kind === 'PrometheusRule')!;
    expect(rule['spec']).toEqual(parseYaml(readFileSync(join(root, 'monitoring/prometheus-rules.yaml'), 'utf8')));
    const dashboard = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'classops-dashboard')!;
    expect([dashboard.metadata.namespace, dashboard.metadata['labels'].grafana_dashboard]).toEqual(['monitoring', '1']);
    expect(JSON.parse(dashboard['data']['classops.json'])).toEqual(
      JSON.parse(readFileSync(join(root, 'monitoring/grafana-dashboard.json'), 'utf8')),
    );
    expect(render().filter((o) => o.apiVersion.startsWith('monitoring.coreos.com'))).toEqual([]);
  });

  test('rbac.courseNamespaces: the chart creates each course namespace and keeps it on uninstall', () => {
    const objects = render(readValues('values-locked.yaml'));
    const namespaces = objects.filter((o) => o.kind === 'Namespace');
    expect(namespaces.map((n) => [n.metadata.name, n.metadata['annotations']['helm.sh/resource-policy']])).toEqual([
      ['container-course-week01', 'keep'],
      ['container-course-week02', 'keep'],
      ['container-course-week03', 'keep'],
    ]);
    expect(
      objects
        .filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'classops-course')
        .map((b) => b.metadata.namespace),
    ).toEqual(namespaces.map((n) => n.metadata.name));
  });
});

describe('the admission policy: the API server refuses classops writes outside its namespaces', () => {
  const policy = render().find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
  const binding = render().find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')!;
  const CONTROLLER = 'system:serviceaccount:classops:classops';
  const PSA = 'pod-security.kubernetes.io/enforce';
  const managed = {
    metadata: {
      name: 'container-course-week01',
      labels: { 'app.kubernetes.io/managed-by': 'classops', [PSA]: 'baseline' },
    },
  };
  const enforcing = (level: string | undefined, version?: string) => ({
    metadata: {
      name: 'container-course-week01',
      labels: {
        'app.kubernetes.io/managed-by': 'classops',
        ...(level === undefined ? {} : { [PSA]: level }),
        ...(version === undefined ? {} : { [`${PSA}-version`]: version }),
      },
    },
  });
  const kubeSystem = { metadata: { name: 'kube-system', labels: { 'kubernetes.io/metadata.name': 'kube-system' } } };

  // CEL sees Kubernetes objects as maps: @bufbuild/cel, a conformant CEL evaluator, takes Map.
  const toCel = (v: unknown): unknown =>
    v === null || typeof v !== 'object'
      ? v
      : Array.isArray(v)
        ? v.map(toCel)
        : new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));

  /** What the API server decides for one request: the policy's match, its conditions, then each validation. */
  function admit(
    request: {
      username: string;
      operation: 'CREATE' | 'UPDATE' | 'DELETE';
      group: string;
      resource: string;
      namespace?: string;
      object?: unknown;
      oldObject?: unknown;
      namespaceObject?: unknown;
    },
    using = policy,
  ): string {
    const spec = using['spec'];
    const matched = spec.matchConstraints.resourceRules.some(
      (r: any) =>
        r.apiGroups.includes(request.group) &&
        r.resources.includes(request.resource) &&
        r.operations.includes(request.operation),
    );
    if (!matched) return 'not matched';
    const vars = {
      request: toCel({
        userInfo: { username: request.username },
        operation: request.operation,
        namespace: request.namespace ?? '',
        resource: { group: request.group, resource: request.resource },
      }),
      object: toCel(request.object ?? null),
      oldObject: toCel(request.oldObject ?? null),
      namespaceObject: toCel(request.namespaceObject ?? null),
    } as never;
    if (!spec.matchConditions.every((c: any) => runCel(c.expression, vars) === true)) return 'not matched';
    for (const v of spec.validations)
      if (runCel(v.expression, vars) !== true) return v.message ?? (runCel(v.messageExpression, vars) as string);
    return 'allowed';
  }

  const deployment = { metadata: { name: 'student-mallory' } };
  test.each([
    [
      'a Deployment in a course namespace',
      {
        operation: 'CREATE',
        group: 'apps',
        resource: 'deployments',
        namespace: 'container-course-week01',
        object: deployment,
        namespaceObject: managed,
      },
      'allowed',
    ],
    [
      'a Deployment in kube-system',
      {
        operation: 'CREATE',
        group: 'apps',
        resource: 'deployments',
        namespace: 'kube-system',
        object: deployment,
        namespaceObject: kubeSystem,
      },
      'classops writes only in namespaces it manages (label app.kubernetes.io/managed-by=classops), not in kube-system',
    ],
    [
      'pruning a Service in kube-system',
      {
        operation: 'DELETE',
        group: '',
        resource: 'services',
        namespace: 'kube-system',
        oldObject: deployment,
        namespaceObject: kubeSystem,
      },
      expect.stringContaining('not in kube-system'),
    ],
    [
      'a NetworkPolicy in a namespace that is gone',
      {
        operation: 'CREATE',
        group: 'networking.k8s.io',
        resource: 'networkpolicies',
        namespace: 'x',
        object: deployment,
      },
      expect.stringContaining('not in x'),
    ],
    [
      'a new course namespace, labelled',
      { operation: 'CREATE', group: '', resource: 'namespaces', object: managed },
      'allowed',
    ],
    [
      'a new namespace without the label',
      { operation: 'CREATE', group: '', resource: 'namespaces', object: kubeSystem },
      expect.stringContaining('creates only namespaces labelled'),
    ],
    [
      'labelling kube-system as its own',
      { operation: 'UPDATE', group: '', resource: 'namespaces', object: managed, oldObject: kubeSystem },
      expect.stringContaining('changes only namespaces it manages'),
    ],
    [
      'updating a course namespace',
      { operation: 'UPDATE', group: '', resource: 'namespaces', object: managed, oldObject: managed },
      'allowed',
    ],
    [
      'its namespace loosened to Pod Security privileged (a privileged pod could take the node)',
      { operation: 'UPDATE', group: '', resource: 'namespaces', object: enforcing('privileged'), oldObject: managed },
      "classops' namespaces enforce Pod Security baseline or stricter, at its latest version (config.render.podSecurity.enforce of the chart)",
    ],
    [
      'its namespace pinned to an old Pod Security version (v1.0 lacks the checks added since)',
      {
        operation: 'UPDATE',
        group: '',
        resource: 'namespaces',
        object: enforcing('baseline', 'v1.0'),
        oldObject: managed,
      },
      expect.stringContaining('at its latest version'),
    ],
    [
      'its namespace at the latest version, as classops writes it',
      {
        operation: 'UPDATE',
        group: '',
        resource: 'namespaces',
        object: enforcing('baseline', 'latest'),
        oldObject: managed,
      },
      'allowed',
    ],
    [
      'a new namespace that enforces no Pod Security level',
      { operation: 'CREATE', group: '', resource: 'namespaces', object: enforcing(undefined) },
      expect.stringContaining('enforce Pod Security baseline or stricter'),
    ],
    [
      "a new namespace with a name Pod Security may exempt (a CNI's), labelled as its own",
      {
        operation: 'CREATE',
        group: '',
        resource: 'namespaces',
        object: { ...managed, metadata: { ...managed.metadata, name: 'calico-system' } },
      },
      "classops creates only its course's namespaces (config.render.namespaceTemplate and allowedNamespaces)",
    ],
    [
      'a new namespace for week 12',
      {
        operation: 'CREATE',
        group: '',
        resource: 'namespaces',
        object: { ...managed, metadata: { ...managed.metadata, name: 'container-course-week12' } },
      },
      'allowed',
    ],
    [
      "a new namespace that only starts like a week's",
      {
        operation: 'CREATE',
        group: '',
        resource: 'namespaces',
        object: { ...managed, metadata: { ...managed.metadata, name: 'container-course-week12x' } },
      },
      expect.stringContaining("only its course's namespaces"),
    ],
    [
      'its namespace made stricter (restricted)',
      { operation: 'UPDATE', group: '', resource: 'namespaces', object: enforcing('restricted'), oldObject: managed },
      'allowed',
    ],
    [
      'an event (not a kind it renders)',
      { operation: 'CREATE', group: '', resource: 'events', namespace: 'default', object: {} },
      'not matched',
    ],
  ] as const)('classops writes %s', (_name, request, verdict) => {
    expect(admit({ username: CONTROLLER, ...request })).toEqual(verdict);
  });

  test("the names it may create follow the chart's namespaceTemplate and allowedNamespaces", () => {
    const render_ = { namespaceTemplate: 'lab{week:03}-{course}', allowedNamespaces: ['extra', 'team-*', 'kube-x*'] };
    const custom = render({ config: { render: render_ } }).find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
    const create = (name: string) =>
      admit(
        {
          username: CONTROLLER,
          operation: 'CREATE',
          group: '',
          resource: 'namespaces',
          object: { metadata: { ...managed.metadata, name } },
        },
        custom,
      );
    for (const name of ['lab001-container-course', 'lab12-container-course', 'extra', 'team-a'])
      expect([name, create(name)]).toEqual([name, 'allowed']);
    for (const name of ['container-course-week01', 'extra2', 'lab1-other', 'kube-x1', 'default'])
      expect([name, create(name)]).toEqual([name, expect.stringContaining("only its course's namespaces")]);
    // {course:02} is the course as it is, as src/render/names.ts reads it.
    const widths = render({ config: { render: { namespaceTemplate: '{course:02}-w{week}' } } });
    const policyOf = widths.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
    const namespace = (name: string) => ({ metadata: { ...managed.metadata, name } });
    const createIn = (name: string) =>
      admit(
        { username: CONTROLLER, operation: 'CREATE', group: '', resource: 'namespaces', object: namespace(name) },
        policyOf,
      );
    expect(createIn('container-course-w3')).toBe('allowed');
  });

  test('other users are not concerned; every kind classops writes is covered; the binding denies', () => {
    const request = {
      operation: 'CREATE',
      group: 'apps',
      resource: 'deployments',
      namespace: 'kube-system',
      namespaceObject: kubeSystem,
    } as const;
    expect(admit({ username: 'system:serviceaccount:classops:classops-gallery', ...request })).toBe('not matched');
    expect(admit({ username: 'kubernetes-admin', ...request })).toBe('not matched');
    for (const { apiVersion, kind, plural } of MANAGED_KINDS)
      for (const operation of ['CREATE', 'UPDATE', 'DELETE'] as const)
        expect([
          kind,
          admit({
            username: CONTROLLER,
            operation,
            group: groupOf(apiVersion),
            resource: plural,
            namespace: 'kube-system',
            object: deployment,
            oldObject: kubeSystem,
            namespaceObject: kubeSystem,
          }),
        ]).not.toEqual([kind, 'allowed']);
    expect(binding['spec']).toEqual({ policyName: policy.metadata.name, validationActions: ['Deny'] });
    // A chart set to restricted allows only restricted; one set to privileged pins nothing.
    const levels = (enforce: string) => {
      const objects = render({ config: { render: { podSecurity: { enforce } } } });
      const { validations } = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy')!['spec'];
      return validations
        .map((v: { expression: string }) => v.expression)
        .filter((e: string) => e.includes('pod-security'));
    };
    expect(levels('restricted')).toEqual([expect.stringContaining("in ['restricted']")]);
    expect(levels('privileged')).toEqual([]);
    // The namespaces the chart creates for rbac.courseNamespaces carry the label, so classops may write in them.
    for (const ns of render(readValues('values-locked.yaml')).filter((o) => o.kind === 'Namespace'))
      expect(ns.metadata['labels']['app.kubernetes.io/managed-by']).toBe('classops');
  });
});
