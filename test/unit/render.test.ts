import { readdirSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { loadConfig, type ClassopsConfig } from '../../src/config.js';
import type { RosterReport } from '../../src/roster/model.js';
import { validateRoster } from '../../src/roster/validate.js';
import type { KubeObject } from '../../src/render/objects.js';
import { objectsToYaml } from '../../src/render/serialize.js';
import { manifestDocuments, manifestTree, weekObjects } from '../../src/render/tree.js';
import type { RenderedWeek } from '../../src/render/week.js';
import { studentObjectList } from '../../src/render/objects.js';
import { validateKubeObject } from '../support/kube-schemas.js';
import { interpretReports } from '../../src/pipeline/interpret.js';
import { FIXTURES, renderReport, rosterText } from '../support/rosters.js';

const config = (overrides: Record<string, unknown> = {}): ClassopsConfig =>
  loadConfig({ env: {}, overrides: { render: overrides } });
const SAMPLE = readFileSync(new URL('../../students/week-01.yaml', import.meta.url));
const sampleReport = (): RosterReport => validateRoster('students/week-01.yaml', SAMPLE, config().policy);

function week(report: RosterReport, cfg = config(), digests?: Map<string, string>): RenderedWeek {
  const result = renderReport(report, cfg, 'abc123', digests);
  if (result === undefined) throw new Error(`not rendered: ${report.file}`);
  return result;
}
const all = (w: RenderedWeek): KubeObject[] => weekObjects(w);
const manifestStream = (weeks: RenderedWeek[]) => [...manifestDocuments(weeks)].join('');
const find = (w: RenderedWeek, kind: string, name: string) =>
  all(w).find((o) => o.kind === kind && o.metadata.name === name)!;
type Pod = { spec: { template: { spec: Record<string, any> } } };
const podOf = (w: RenderedWeek, name: string) => (find(w, 'Deployment', name) as unknown as Pod).spec.template.spec;

const ROUTINGS: Array<[string, Record<string, unknown>]> = [
  ['ingress + nginx rewrite', {}],
  [
    'ingress + traefik middleware',
    { routing: { rewrite: 'traefik', ingressClassName: 'traefik', tlsSecretName: 'course-tls' } },
  ],
  ['ingress without rewrite', { routing: { rewrite: 'none' } }],
  [
    'Gateway API HTTPRoute',
    { routing: { mode: 'httproute', parentRefs: [{ name: 'gw', namespace: 'infra', sectionName: 'https' }] } },
  ],
  [
    'non-root, no network policies',
    { runAsNonRoot: true, podSecurity: { enforce: 'restricted' }, networkPolicy: { enabled: false } },
  ],
];

describe('every rendered object is valid for the Kubernetes API', () => {
  test.each(ROUTINGS)('%s: every valid entry of every fixture', (_, overrides) => {
    let checked = 0;
    for (const name of readdirSync(FIXTURES)) {
      const report = validateRoster(
        `${name}/week-01.yaml`,
        readFileSync(`${FIXTURES}${name}/week-01.yaml`),
        config().policy,
      );
      const result = renderReport(report, config(overrides), 'r1');
      if (result === undefined) continue;
      for (const object of all(result)) {
        expect(() => validateKubeObject(object)).not.toThrow();
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(40);
  });
});

describe('a student gets a hardened Deployment, a Service and a route', () => {
  const w = week(sampleReport());

  test('names are RFC 1123 from the username, lowercased', () => {
    expect(
      w.students.map((s) => studentObjectList(s.objects).map((o) => `${o.kind}/${o.metadata.name}`)),
    ).toContainEqual([
      'Deployment/student-otajon99',
      'Service/student-otajon99',
      'Ingress/student-otajon99',
      'Ingress/student-otajon99--latest',
    ]);
    expect(find(w, 'Deployment', 'student-otajon99').metadata.labels).toEqual({
      'app.kubernetes.io/name': 'student-app',
      'app.kubernetes.io/instance': 'student-otajon99',
      'app.kubernetes.io/part-of': 'container-course',
      'app.kubernetes.io/managed-by': 'classops',
      'classops.dev/student': 'otajon99',
      'classops.dev/week': '01',
    });
  });

  test('the pod spec is hardened, limited and probed on the health endpoint', () => {
    const pod = podOf(w, 'student-priya-r');
    expect(pod['automountServiceAccountToken']).toBe(false);
    expect(pod['enableServiceLinks']).toBe(false);
    const [app] = pod['containers'];
    expect(app.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    // A full disk would evict every pod on the node: past its own limit, only this one goes.
    expect(app.resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
      limits: { cpu: '200m', memory: '256Mi', 'ephemeral-storage': '1Gi' },
    });
    expect(app.ports).toEqual([{ name: 'http', containerPort: 3000, protocol: 'TCP' }]);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'])
      expect(app[probe].httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTP' });
    expect(app.env).toEqual([
      { name: 'STUDENT_NAME', value: 'Priya Raman' },
      { name: 'GITHUB_USERNAME', value: 'priya-r' },
    ]);
    const deployment = find(w, 'Deployment', 'student-priya-r') as unknown as {
      spec: { replicas: number; revisionHistoryLimit: number };
    };
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.revisionHistoryLimit).toBe(2);
  });

  test("the Service maps port 80 to the student's port; the Ingresses strip /students/week01/<login> and /students/<login>", () => {
    expect(find(w, 'Service', 'student-mchen-dev')['spec']).toMatchObject({
      ports: [{ port: 80, targetPort: 'http' }],
    });
    const ingress = find(w, 'Ingress', 'student-otajon99');
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/rewrite-target': '/$2',
      'nginx.ingress.kubernetes.io/use-regex': 'true',
    });
    expect(ingress['spec']).toMatchObject({
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'course.example.edu',
          http: { paths: [{ path: '/students/week01/otajon99(/|$)(.*)', pathType: 'ImplementationSpecific' }] },
        },
      ],
    });
    const latest = find(w, 'Ingress', 'student-otajon99--latest');
    expect(latest['spec']).toMatchObject({
      rules: [
        {
          http: {
            paths: [{ path: '/students/otajon99(/|$)(.*)', backend: { service: { name: 'student-otajon99' } } }],
          },
        },
      ],
    });
  });

  test('by default an egress policy lets student pods resolve names and reach the internet, nothing private', () => {
    const egress = week(sampleReport()).shared.find((o) => o.metadata.name === 'classops-restrict-egress')!;
    expect(() => validateKubeObject(egress)).not.toThrow();
    expect(egress['spec']).toEqual({
      podSelector: {
        matchLabels: { 'app.kubernetes.io/managed-by': 'classops', 'app.kubernetes.io/name': 'student-app' },
      },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        // The course's public URLs: from inside the cluster they lead straight to ingress-nginx's pods.
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
            },
          ],
          ports: [
            { protocol: 'TCP', port: 80 },
            { protocol: 'TCP', port: 443 },
          ],
        },
        {
          to: [
            {
              ipBlock: {
                cidr: '0.0.0.0/0',
                except: [
                  '10.0.0.0/8',
                  '100.64.0.0/10',
                  '127.0.0.0/8',
                  '169.254.0.0/16',
                  '172.16.0.0/12',
                  '192.168.0.0/16',
                ],
              },
            },
            {
              ipBlock: {
                cidr: '::/0',
                // Private, link-local, loopback, and the private IPv4 ranges through NAT64.
                except: [
                  'fc00::/7',
                  'fe80::/10',
                  '::1/128',
                  '64:ff9b::a00:0/104',
                  '64:ff9b::6440:0/106',
                  '64:ff9b::7f00:0/104',
                  '64:ff9b::a9fe:0/112',
                  '64:ff9b::ac10:0/108',
                  '64:ff9b::c0a8:0/112',
                ],
              },
            },
          ],
        },
      ],
    });
    const open = week(sampleReport(), config({ networkPolicy: { egress: { enabled: false } } }));
    expect(open.shared.map((o) => o.metadata.name)).not.toContain('classops-restrict-egress');
  });

  const NGINX = { 'app.kubernetes.io/name': 'ingress-nginx' };
  test.each([
    ['ingress-nginx', {}, [80, 443], NGINX],
    ["k3s' Traefik", { routing: { rewrite: 'traefik' } }, [8000, 8443], { 'app.kubernetes.io/name': 'traefik' }],
    ['a controller it cannot tell', { routing: { rewrite: 'none' } }, [], undefined],
    ['a Gateway', { routing: { mode: 'httproute', parentRefs: [{ name: 'gw' }] } }, [], undefined],
    [
      'a Gateway whose pods and ports are given',
      {
        routing: { mode: 'httproute', parentRefs: [{ name: 'gw' }] },
        networkPolicy: {
          egress: { ingressControllerPorts: [10080, 10443], ingressControllerPodLabels: { gateway: 'course' } },
        },
      },
      [10080, 10443],
      { gateway: 'course' },
    ],
    // Ports alone, for a controller it cannot tell: every pod of the controller's namespace.
    [
      'ports alone',
      { routing: { rewrite: 'none' }, networkPolicy: { egress: { ingressControllerPorts: [8080] } } },
      [8080],
      {},
    ],
    ['ingress-nginx, ports given', { networkPolicy: { egress: { ingressControllerPorts: [8080] } } }, [8080], NGINX],
  ])("%s: the course's URLs reach the controller's pods on %p", (_, overrides, ports, labels) => {
    const egress = week(sampleReport(), config(overrides)).shared.find(
      (o) => o.metadata.name === 'classops-restrict-egress',
    )!;
    expect(() => validateKubeObject(egress)).not.toThrow();
    type Rule = { to: Array<Record<string, unknown>>; ports?: Array<{ protocol: string; port: number }> };
    const rules = (egress['spec'] as { egress: Rule[] }).egress;
    const controller = rules.filter((r) => r.ports !== undefined && r.ports[0]!.port !== 53);
    expect(controller.flatMap((r) => r.ports!.map((p) => p.port))).toEqual(ports);
    expect(controller.map((r) => r.to)).toEqual(
      labels === undefined
        ? []
        : [
            [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
                podSelector: { matchLabels: labels },
              },
            ],
          ],
    );
  });

  test('NodeLocal DNSCache: the addresses given may be asked for names, on port 53 only', () => {
    const cfg = config({ networkPolicy: { egress: { dnsCidrs: ['169.254.20.10/32', '10.43.0.10/32'] } } });
    const egress = week(sampleReport(), cfg).shared.find((o) => o.metadata.name === 'classops-restrict-egress')!;
    expect(() => validateKubeObject(egress)).not.toThrow();
    const [dns] = (egress['spec'] as { egress: Array<Record<string, unknown>> }).egress;
    expect(dns).toEqual({
      to: [
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } },
        { ipBlock: { cidr: '169.254.20.10/32' } },
        { ipBlock: { cidr: '10.43.0.10/32' } },
      ],
      ports: [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
    });
  });

  test('without a rewrite, a route takes its path and what is below it, never a longer name (bob is not bobby)', () => {
    const traefik = week(sampleReport(), config({ routing: { rewrite: 'traefik', ingressClassName: 'traefik' } }));
    const rules = (find(traefik, 'Ingress', 'student-jlgore') as unknown as { spec: { rules: any[] } }).spec.rules;
    const backend = { service: { name: 'student-jlgore', port: { name: 'http' } } };
    // Traefik reads a Prefix path as a string prefix: /students/week01/jlgore alone would take /students/week01/jlgoreX.
    expect(rules[0].http.paths).toEqual([
      { path: '/students/week01/jlgore', pathType: 'Exact', backend },
      { path: '/students/week01/jlgore/', pathType: 'Prefix', backend },
    ]);
    const plain = week(sampleReport(), config({ routing: { rewrite: 'none' } }));
    const latest = find(plain, 'Ingress', 'student-jlgore--latest') as unknown as { spec: { rules: any[] } };
    expect(latest.spec.rules[0].http.paths.map((p: any) => `${p.pathType} ${p.path}`)).toEqual([
      'Exact /students/jlgore',
      'Prefix /students/jlgore/',
    ]);
  });

  test('annotations carry the display name, endpoints, revision and the entry with its hash', () => {
    const annotations = find(w, 'Deployment', 'student-jlgore').metadata.annotations!;
    expect(annotations).toMatchObject({
      'classops.dev/display-name': 'Jared Gore',
      'classops.dev/student-endpoint': '/student',
      'classops.dev/health-endpoint': '/health',
      'classops.dev/source-revision': 'abc123',
      'classops.dev/image': 'ghcr.io/jlgore/container-course-student:v1',
    });
    expect(JSON.parse(annotations['classops.dev/entry']!)).toEqual(
      w.students.find((s) => s.student === 'jlgore')!.entry,
    );
    expect(annotations['classops.dev/entry-hash']).toMatch(/^[0-9a-f]{32}$/);
  });

  test('a root app on a port below 1024 keeps only NET_BIND_SERVICE', () => {
    const low = week(
      validateRoster(
        'week-01.yaml',
        Buffer.from(
          rosterText(
            '  - name: "Lo"\n    github_username: "lo"\n    container_image: "ghcr.io/lo/app:v1"\n    port: 80\n',
          ),
        ),
        config().policy,
      ),
    );
    expect(podOf(low, 'student-lo')['containers'][0].securityContext.capabilities).toEqual({
      drop: ['ALL'],
      add: ['NET_BIND_SERVICE'],
    });
  });

  test('runAsNonRoot from config reaches pod and container', () => {
    const strict = week(sampleReport(), config({ runAsNonRoot: true }));
    expect(podOf(strict, 'student-jlgore')['securityContext']).toEqual({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podOf(strict, 'student-jlgore')['containers'][0].securityContext.runAsNonRoot).toBe(true);
  });
});

describe('images', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  test('pinned by the registry digest, the written reference kept in an annotation', () => {
    const w = week(sampleReport(), config(), new Map([['ghcr.io/jlgore/container-course-student:v1', digest]]));
    expect(podOf(w, 'student-jlgore')['containers'][0]).toMatchObject({
      image: `ghcr.io/jlgore/container-course-student@${digest}`,
      imagePullPolicy: 'IfNotPresent',
    });
    expect(find(w, 'Deployment', 'student-jlgore').metadata.annotations!['classops.dev/image']).toBe(
      'ghcr.io/jlgore/container-course-student:v1',
    );
    expect(podOf(w, 'student-mchen-dev')['containers'][0]).toMatchObject({
      image: 'ghcr.io/mchen-dev/hello-flask:1.0.2',
      imagePullPolicy: 'Always',
    });
  });
  test('as written when pinning is off', () => {
    const w = week(
      sampleReport(),
      config({ pinDigests: false }),
      new Map([['ghcr.io/jlgore/container-course-student:v1', digest]]),
    );
    expect(podOf(w, 'student-jlgore')['containers'][0].image).toBe('ghcr.io/jlgore/container-course-student:v1');
  });
});

describe('the week', () => {
  test('namespace from metadata, else from the template; Pod Security labels; quota and limits from config', () => {
    const fromMetadata = week(sampleReport());
    expect(fromMetadata.namespace).toBe('container-course-week01');
    const report = validateRoster('week-07.yaml', Buffer.from(rosterText('', 7)), config().policy);
    const templated = week(
      report,
      loadConfig({ env: {}, overrides: { course: 'k8s-101', render: { quota: { pods: '10' } } } }),
    );
    expect(templated.namespace).toBe('k8s-101-week07');
    expect(templated.shared.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/k8s-101-week07',
      'ResourceQuota/classops-quota',
      'LimitRange/classops-limits',
      'NetworkPolicy/classops-default-deny-ingress',
      'NetworkPolicy/classops-allow-ingress-and-gallery',
      'NetworkPolicy/classops-restrict-egress',
    ]);
    expect(templated.shared[0]!.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline',
      'pod-security.kubernetes.io/warn': 'restricted',
    });
    expect(templated.shared[1]!['spec']).toEqual({ hard: { pods: '10' } });
    expect(templated.shared[2]!['spec']).toEqual({
      limits: [
        {
          type: 'Container',
          default: { cpu: '200m', memory: '256Mi', 'ephemeral-storage': '1Gi' },
          defaultRequest: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
          max: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '2Gi' },
        },
      ],
    });
  });

  test('a roster with file-level errors renders nothing and says why', () => {
    const report = validateRoster(
      'week-01.yaml',
      readFileSync(`${FIXTURES}week-mismatch/week-01.yaml`),
      config().policy,
    );
    expect(renderReport(report, config(), 'r')).toBeUndefined();
    expect(report.findings.map((f) => f.code)).toContain('week-mismatch');
  });

  test('a template that gives an invalid namespace is reported', () => {
    const report = validateRoster('week-07.yaml', Buffer.from(rosterText('', 7)), config().policy);
    const { reports, desired } = interpretReports(
      [report],
      new Map(),
      config({ namespaceTemplate: '{course}-week{week}-' }),
      {
        revision: 'r',
        lastGood: new Map(),
      },
    );
    expect(desired!.weeks).toEqual([]);
    expect(reports[0]!.findings).toEqual([
      expect.objectContaining({
        code: 'render-namespace-invalid',
        message: 'The namespace template gives "container-course-week7-", which is not a valid namespace name.',
        hint: 'Fix render.namespaceTemplate in classops.yaml.',
      }),
    ]);
  });

  test('invalid entries are left out, the others rendered', () => {
    const report = validateRoster(
      'week-01.yaml',
      readFileSync(`${FIXTURES}one-bad-among-good/week-01.yaml`),
      config().policy,
    );
    expect(week(report).students.map((s) => s.student)).toEqual(['ann', 'cy']);
  });
});

describe('injection attempts stay data', () => {
  const text = rosterText(
    [
      '  - name: "Robert\\"); kubectl delete ns --all; {{ .Values.x }} $(whoami)"\n    github_username: "ann"\n    container_image: "ghcr.io/ann/app:v1"\n',
      '  - name: "key: value\\n---\\nkind: Secret"\n    github_username: "bo"\n    container_image: "ghcr.io/bo/app:v1"\n',
      '  - name: "key: value --- kind: Secret"\n    github_username: "bo2"\n    container_image: "ghcr.io/bo2/app:v1"\n',
      '  - name: "- [a, b] # not a comment"\n    github_username: "cy"\n    container_image: "ghcr.io/cy/app:v1"\n',
      '  - name: "&anchor *alias !!binary \'\' \\""\n    github_username: "di"\n    container_image: "ghcr.io/di/app:v1"\n',
    ].join(''),
  );
  const report = validateRoster('week-01.yaml', Buffer.from(text), config().policy);

  test('names with quotes, YAML and templates are valid data; a line break is not', () => {
    // Exactly these: the "kind: Secret" attempts below must reach the renderer to prove anything.
    expect(report.entries.filter((e) => e.entry).map((e) => e.githubUsername)).toEqual(['ann', 'bo2', 'cy', 'di']);
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => [f.code, f.entryIndex])).toEqual([
      ['name-invalid', 1],
    ]);
  });

  test('serialized and read back, each name is exactly one string in the right fields', () => {
    const w = week(report);
    const docs = parseAllDocuments(manifestStream([w]));
    const objects = (Array.isArray(docs) ? docs : []).map((d) => d.toJS() as KubeObject);
    expect(objects.length).toBe(all(w).length);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const student of w.students) {
      const deployment = objects.find(
        (o) => o.kind === 'Deployment' && o.metadata.name === `student-${student.student}`,
      )!;
      expect(deployment.metadata.annotations!['classops.dev/display-name']).toBe(student.entry.name);
      expect((deployment as unknown as Pod).spec.template.spec['containers'][0].env[0]).toEqual({
        name: 'STUDENT_NAME',
        value: student.entry.name,
      });
      expect(Object.keys(deployment).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    }
  });
});

describe('parts every student shares', () => {
  const containerOf = (w: RenderedWeek, name: string) => podOf(w, name)['containers'][0];
  test('are one frozen copy per config, which no student can change for the others', () => {
    const cfg = config();
    const w = week(sampleReport(), cfg);
    const [a, b] = w.students.map((s) => containerOf(w, s.objects.deployment.metadata.name));
    expect(a.resources).toBe(b.resources);
    expect(a.livenessProbe).toBe(b.livenessProbe);
    expect(Object.isFrozen(a.securityContext.capabilities)).toBe(true);
    expect(() => {
      a.resources.limits.memory = '64Gi';
    }).toThrow(TypeError);
    expect(() => a.securityContext.capabilities.drop.push('NET_RAW')).toThrow(TypeError);
    expect(() => a.ports.push({ containerPort: 22 })).toThrow(TypeError);
    expect(containerOf(week(sampleReport(), cfg), 'student-jlgore').resources).toBe(a.resources);
    // Another config gets its own.
    const other = week(sampleReport(), config({ resources: { limits: { memory: '512Mi' } } }));
    expect(containerOf(other, 'student-jlgore').resources.limits.memory).toBe('512Mi');
    expect(a.resources.limits.memory).toBe('256Mi');
  });

  test('follow what differs between students: a port, a health endpoint', () => {
    const entries = [
      '  - name: "A"\n    github_username: "aa"\n    container_image: "ghcr.io/aa/app:v1"\n    port: 80\n',
      '  - name: "B"\n    github_username: "bb"\n    container_image: "ghcr.io/bb/app:v1"\n    health_endpoint: "/up"\n',
      '  - name: "C"\n    github_username: "cc"\n    container_image: "ghcr.io/cc/app:v1"\n',
    ].join('');
    const w = week(validateRoster('week-01.yaml', Buffer.from(rosterText(entries)), config().policy));
    const [a, b, c] = ['student-aa', 'student-bb', 'student-cc'].map((n) => containerOf(w, n));
    expect(a.ports).toEqual([{ name: 'http', containerPort: 80, protocol: 'TCP' }]);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 5000, protocol: 'TCP' }]);
    expect(a.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    expect(c.securityContext.capabilities).toEqual({ drop: ['ALL'] });
    expect(b.readinessProbe.httpGet.path).toBe('/up');
    expect(c.readinessProbe.httpGet.path).toBe('/health');
    expect(b.ports).toBe(c.ports);
  });
});

describe('output is deterministic', () => {
  test('two renders are byte-identical, and entry order in the file does not matter', () => {
    const a = manifestStream([week(sampleReport())]);
    expect(manifestStream([week(sampleReport())])).toBe(a);
    const lines = SAMPLE.toString('utf8');
    const [head, ...entries] = lines.split(/\n(?= {2}- name:)/);
    const reordered = [head, ...entries.reverse()].join('\n').replace(/\n*$/, '\n');
    const b = manifestStream([week(validateRoster('students/week-01.yaml', Buffer.from(reordered), config().policy))]);
    expect(b).toBe(a);
  });

  test('the spec hash ignores the revision, and changes with the spec', () => {
    const hashes = (w: RenderedWeek) => all(w).map((o) => o.metadata.annotations?.['classops.dev/spec-hash']);
    const r1 = renderReport(sampleReport(), config(), 'one')!;
    const r2 = renderReport(sampleReport(), config(), 'two')!;
    expect(hashes(r1)).toEqual(hashes(r2));
    const bigger = renderReport(sampleReport(), config({ resources: { limits: { memory: '512Mi' } } }), 'one')!;
    // The four Deployments, and the LimitRange whose default follows the limits.
    expect(hashes(bigger).filter((h, i) => h !== hashes(r1)[i]).length).toBe(5);
  });
});

describe('golden files', () => {
  test.each([
    ['ingress', {}],
    ['httproute', { routing: { mode: 'httproute' } }],
    ['traefik', { routing: { rewrite: 'traefik', ingressClassName: 'traefik' } }],
  ])('the sample roster, %s routing', (name, overrides) => {
    const actual = objectsToYaml(all(week(sampleReport(), config(overrides))));
    const file = new URL(`../fixtures/golden/sample-${name}.yaml`, import.meta.url);
    expect(actual).toBe(readFileSync(file, 'utf8'));
  });

  test('the folder layout has a kustomization per week and a file per student', () => {
    expect([...manifestTree([week(sampleReport())]).keys()]).toEqual([
      'container-course-week01/kustomization.yaml',
      'container-course-week01/week.yaml',
      'container-course-week01/student-jlgore.yaml',
      'container-course-week01/student-mchen-dev.yaml',
      'container-course-week01/student-otajon99.yaml',
      'container-course-week01/student-priya-r.yaml',
      'kustomization.yaml',
    ]);
  });
});
