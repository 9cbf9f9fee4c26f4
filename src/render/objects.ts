/**
 * Valid roster entries + registry digests + config in, Kubernetes objects out. Pure and
 * deterministic: the same input gives the same objects, to the byte once serialized.
 */
import type {
  V1Container,
  V1Deployment,
  V1HTTPIngressPath,
  V1Ingress,
  V1Namespace,
  V1ObjectMeta,
  V1Probe,
  V1ResourceQuota,
  V1Service,
} from '@kubernetes/client-node';
import { canonicalJson, textHash } from '../canonical.js';
import { isIPv6Range } from '../cidr.js';
import { apiAmounts, type ClassopsConfig, type RenderConfig } from '../config.js';
import type { StudentEntry } from '../roster/model.js';
import { parseImageReference, pinImageReference } from '../roster/image-reference.js';
import { ANNOTATION, LABEL, MANAGED_BY, studentObjectName, weekLabel } from './names.js';
import { sharedParts } from './shared.js';

/** Any rendered object: what the serializer and the cluster module handle. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: V1ObjectMeta & { readonly name: string };
  readonly [field: string]: unknown;
}

/** Gateway API HTTPRoute (gateway.networking.k8s.io/v1), the fields classops sets. */
interface HTTPRoute {
  apiVersion: 'gateway.networking.k8s.io/v1';
  kind: 'HTTPRoute';
  metadata: V1ObjectMeta & { name: string };
  spec: {
    parentRefs: Array<{ name: string; namespace?: string; sectionName?: string }>;
    hostnames: string[];
    rules: Array<{
      matches: Array<{ path: { type: 'PathPrefix'; value: string } }>;
      filters: Array<{
        type: 'URLRewrite';
        urlRewrite: { path: { type: 'ReplacePrefixMatch'; replacePrefixMatch: string } };
      }>;
      backendRefs: Array<{ name: string; port: number }>;
    }>;
  };
}

/** Traefik's Middleware CRD (traefik.io/v1alpha1), used to strip the student's prefix. */
interface TraefikMiddleware {
  apiVersion: 'traefik.io/v1alpha1';
  kind: 'Middleware';
  metadata: V1ObjectMeta & { name: string };
  spec: { stripPrefixRegex: { regex: string[] } };
}

export interface WeekContext {
  readonly course: string;
  readonly week: number;
  readonly namespace: string;
  /** The source revision (commit SHA or content hash) the objects come from. */
  readonly revision: string;
  /** The roster file the week comes from. */
  readonly file: string;
  readonly render: RenderConfig;
}

const SERVICE_PORT = 80;
const CONTAINER_NAME = 'app';
const PORT_NAME = 'http';
const TRAEFIK_MIDDLEWARE = 'classops-strip-student-prefix';
const APP_NAME = 'student-app';

function baseLabels(ctx: WeekContext): Record<string, string> {
  return { [LABEL.managedBy]: MANAGED_BY, [LABEL.partOf]: ctx.course, [LABEL.week]: weekLabel(ctx.week) };
}

function studentLabels(ctx: WeekContext, entry: StudentEntry): Record<string, string> {
  return {
    ...baseLabels(ctx),
    [LABEL.name]: APP_NAME,
    [LABEL.instance]: studentObjectName(entry.githubUsername),
    [LABEL.student]: entry.githubUsername.toLowerCase(),
  };
}

function selectorLabels(entry: StudentEntry): Record<string, string> {
  return { [LABEL.name]: APP_NAME, [LABEL.instance]: studentObjectName(entry.githubUsername) };
}

/**
 * Adds the source revision and the spec hash, which covers everything else: the revision
 * changes with every commit, the rest only with the spec. Objects are built here in a fixed
 * key order, so plain JSON is stable and much cheaper than canonical JSON for ten thousand
 * students; the annotations are the object's own (from `meta`), so they are completed in place.
 */
function sealed<T extends KubeObject>(object: T, ctx: WeekContext): T {
  const specHash = textHash(JSON.stringify(object));
  const annotations = object.metadata.annotations!;
  annotations[ANNOTATION.sourceRevision] = ctx.revision;
  annotations[ANNOTATION.specHash] = specHash;
  return object;
}

function meta(
  ctx: WeekContext,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string> = {},
): V1ObjectMeta & { name: string } {
  return {
    name,
    namespace: ctx.namespace,
    labels,
    annotations: { ...annotations, [ANNOTATION.sourceFile]: ctx.file },
  };
}

/** The image to run: pinned by the registry's digest when known, else as written. */
export function deployedImage(entry: StudentEntry, digest: string | undefined, render: RenderConfig): string {
  if (!render.pinDigests || digest === undefined) return entry.containerImage;
  const parsed = parseImageReference(entry.containerImage);
  return parsed.ok ? pinImageReference(parsed.reference, digest) : entry.containerImage;
}

// Startup allows two minutes for slow first boots; then readiness gates traffic and liveness restarts a hung app.
const PROBE_TIMINGS = {
  startupProbe: { periodSeconds: 5, failureThreshold: 24, timeoutSeconds: 2 },
  readinessProbe: { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
  livenessProbe: { periodSeconds: 20, failureThreshold: 3, timeoutSeconds: 2 },
} as const;

type Probes = Record<keyof typeof PROBE_TIMINGS, V1Probe>;

function probes(healthEndpoint: string): Probes {
  const probe = (timing: (typeof PROBE_TIMINGS)[keyof typeof PROBE_TIMINGS]): V1Probe => ({
    httpGet: { path: healthEndpoint, port: PORT_NAME, scheme: 'HTTP' },
    ...timing,
  });
  return {
    startupProbe: probe(PROBE_TIMINGS.startupProbe),
    readinessProbe: probe(PROBE_TIMINGS.readinessProbe),
    livenessProbe: probe(PROBE_TIMINGS.livenessProbe),
  };
}

function containerSecurityContext(render: RenderConfig, lowPort: boolean): V1Container['securityContext'] {
  const { runAsNonRoot } = render;
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    // Ports below 1024 need this one capability when the image runs as root.
    capabilities: { drop: ['ALL'], ...(lowPort && !runAsNonRoot ? { add: ['NET_BIND_SERVICE'] } : {}) },
    ...(runAsNonRoot ? { runAsNonRoot: true } : {}),
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function container(ctx: WeekContext, entry: StudentEntry, image: string): V1Container {
  const shared = sharedParts(ctx.render);
  const { resources } = ctx.render;
  const { port, healthEndpoint } = entry;
  const lowPort = port < 1024;
  return {
    name: CONTAINER_NAME,
    image,
    imagePullPolicy: image.includes('@') ? 'IfNotPresent' : 'Always',
    ports: shared.get(`ports:${port}`, () => [{ name: PORT_NAME, containerPort: port, protocol: 'TCP' }]),
    env: [
      { name: 'STUDENT_NAME', value: entry.name },
      { name: 'GITHUB_USERNAME', value: entry.githubUsername },
    ],
    resources: shared.get('resources', () => ({
      requests: apiAmounts(resources.requests),
      limits: apiAmounts(resources.limits),
    })),
    ...shared.get(`probes:${healthEndpoint}`, () => probes(healthEndpoint)),
    securityContext: shared.get(`securityContext:${lowPort}`, () => containerSecurityContext(ctx.render, lowPort)),
  };
}

export function renderDeployment(
  ctx: WeekContext,
  entry: StudentEntry,
  digest: string | undefined,
): V1Deployment & KubeObject {
  const name = studentObjectName(entry.githubUsername);
  const labels = studentLabels(ctx, entry);
  const image = deployedImage(entry, digest, ctx.render);
  const entryJson = canonicalJson(entry);
  const shared = sharedParts(ctx.render);
  return sealed(
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(ctx, name, labels, {
        [ANNOTATION.displayName]: entry.name,
        [ANNOTATION.githubUsername]: entry.githubUsername,
        [ANNOTATION.image]: entry.containerImage,
        [ANNOTATION.studentEndpoint]: entry.studentEndpoint,
        [ANNOTATION.healthEndpoint]: entry.healthEndpoint,
        [ANNOTATION.port]: String(entry.port),
        [ANNOTATION.entry]: entryJson,
        [ANNOTATION.entryHash]: textHash(entryJson),
      }),
      spec: {
        replicas: 1,
        revisionHistoryLimit: ctx.render.revisionHistoryLimit,
        selector: { matchLabels: selectorLabels(entry) },
        strategy: shared.get('strategy', () => ({
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
        })),
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: shared.get('podSecurityContext', () => ({
              seccompProfile: { type: 'RuntimeDefault' },
              ...(ctx.render.runAsNonRoot ? { runAsNonRoot: true } : {}),
            })),
            containers: [container(ctx, entry, image)],
          },
        },
      },
    },
    ctx,
  );
}

export function renderService(ctx: WeekContext, entry: StudentEntry): V1Service & KubeObject {
  return sealed(
    {
      apiVersion: 'v1',
      kind: 'Service',
      // The gallery discovers students from Services: who it is and where /student answers.
      metadata: meta(ctx, studentObjectName(entry.githubUsername), studentLabels(ctx, entry), {
        [ANNOTATION.displayName]: entry.name,
        [ANNOTATION.githubUsername]: entry.githubUsername,
        [ANNOTATION.studentEndpoint]: entry.studentEndpoint,
      }),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(entry),
        ports: sharedParts(ctx.render).get('servicePorts', () => [
          { name: PORT_NAME, port: SERVICE_PORT, targetPort: PORT_NAME, protocol: 'TCP' },
        ]),
      },
    },
    ctx,
  );
}

/**
 * Where a student's app is public: `<prefix>/week02/<login>` for each week's entry, and
 * `<prefix>/<login>` for the student's newest week only, so one path never has two routes.
 */
export function studentPath(render: RenderConfig, entry: Pick<StudentEntry, 'githubUsername'>, week?: number): string {
  const login = entry.githubUsername.toLowerCase();
  return week === undefined
    ? `${render.routing.pathPrefix}/${login}`
    : `${render.routing.pathPrefix}/week${weekLabel(week)}/${login}`;
}

/** The route of the plain path: `--` cannot occur in a login, so this never names another student's route. */
export function latestRouteName(entry: Pick<StudentEntry, 'githubUsername'>): string {
  return `${studentObjectName(entry.githubUsername)}--latest`;
}

interface RouteFor {
  readonly name: string;
  readonly path: string;
}

export function renderIngress(ctx: WeekContext, entry: StudentEntry, at: RouteFor): V1Ingress & KubeObject {
  const { routing } = ctx.render;
  const name = studentObjectName(entry.githubUsername);
  const prefix = at.path;
  const annotations: Record<string, string> = {};
  const backend = { service: { name, port: { name: PORT_NAME } } };
  // The prefix alone and below it, never beyond: Traefik (k3s' controller) takes a Prefix
  // path as a plain string prefix, so `/students/bob` would also route `/students/bobby`.
  let paths: V1HTTPIngressPath[] = [
    { path: prefix, pathType: 'Exact', backend },
    { path: `${prefix}/`, pathType: 'Prefix', backend },
  ];
  if (routing.rewrite === 'nginx') {
    // ingress-nginx: capture what follows the prefix and send it as the path.
    paths = [{ path: `${prefix}(/|$)(.*)`, pathType: 'ImplementationSpecific', backend }];
    annotations['nginx.ingress.kubernetes.io/use-regex'] = 'true';
    annotations['nginx.ingress.kubernetes.io/rewrite-target'] = '/$2';
  } else if (routing.rewrite === 'traefik') {
    annotations['traefik.ingress.kubernetes.io/router.middlewares'] =
      `${ctx.namespace}-${TRAEFIK_MIDDLEWARE}@kubernetescrd`;
  }
  return sealed(
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: meta(ctx, at.name, studentLabels(ctx, entry), annotations),
      spec: {
        ingressClassName: routing.ingressClassName,
        ...(routing.tlsSecretName
          ? {
              tls: sharedParts(ctx.render).get('tls', () => [
                { hosts: [routing.host], secretName: routing.tlsSecretName },
              ]),
            }
          : {}),
        rules: [
          {
            host: routing.host,
            http: { paths },
          },
        ],
      },
    },
    ctx,
  );
}

export function renderHttpRoute(ctx: WeekContext, entry: StudentEntry, at: RouteFor): HTTPRoute & KubeObject {
  const name = studentObjectName(entry.githubUsername);
  const shared = sharedParts(ctx.render);
  return sealed(
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: meta(ctx, at.name, studentLabels(ctx, entry)),
      spec: {
        parentRefs: shared.get('parentRefs', () => ctx.render.routing.parentRefs.map((ref) => ({ ...ref }))),
        hostnames: shared.get('hostnames', () => [ctx.render.routing.host]),
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: at.path } }],
            filters: shared.get('rewriteFilters', () => [
              { type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } },
            ]),
            backendRefs: [{ name, port: SERVICE_PORT }],
          },
        ],
      },
    },
    ctx,
  );
}

/** Everything one student gets, by role. */
export interface StudentObjects {
  readonly deployment: KubeObject;
  readonly service: KubeObject;
  /** The route at the week's path. */
  readonly route: KubeObject;
  /** The route at the plain path, on the student's newest week only. */
  readonly latestRoute: KubeObject | undefined;
}

/** The objects in apply order, for writing and serializing. */
export function studentObjectList(objects: StudentObjects): KubeObject[] {
  return [objects.deployment, objects.service, objects.route, ...(objects.latestRoute ? [objects.latestRoute] : [])];
}

export function renderStudent(
  ctx: WeekContext,
  entry: StudentEntry,
  digest: string | undefined,
  latest: boolean,
): StudentObjects {
  // Only the Deployment carries the entry and its hash: the Service and routes change only when their own fields do.
  const routeAt = (at: RouteFor) =>
    ctx.render.routing.mode === 'httproute' ? renderHttpRoute(ctx, entry, at) : renderIngress(ctx, entry, at);
  const name = studentObjectName(entry.githubUsername);
  return {
    deployment: renderDeployment(ctx, entry, digest),
    service: renderService(ctx, entry),
    route: routeAt({ name, path: studentPath(ctx.render, entry, ctx.week) }),
    latestRoute: latest ? routeAt({ name: latestRouteName(entry), path: studentPath(ctx.render, entry) }) : undefined,
  };
}

/** The week's shared objects: Namespace, quota, limits, network policies (and Traefik's middleware). */
export function renderWeekObjects(ctx: WeekContext): KubeObject[] {
  const { render } = ctx;
  const labels = baseLabels(ctx);
  const namespace: V1Namespace & KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ctx.namespace,
      labels: {
        ...labels,
        'pod-security.kubernetes.io/enforce': render.podSecurity.enforce,
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': render.podSecurity.warn,
        'pod-security.kubernetes.io/audit': render.podSecurity.audit,
      },
      annotations: { [ANNOTATION.sourceFile]: ctx.file },
    },
  };
  const quota: V1ResourceQuota & KubeObject = {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: meta(ctx, 'classops-quota', labels),
    spec: { hard: { ...render.quota } },
  };
  // LimitRange and NetworkPolicy are written in the API's field names (`default`, `from`);
  // client-node's models rename those to `_default` and `_from`.
  const limitRange: KubeObject = {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta(ctx, 'classops-limits', labels),
    spec: {
      limits: [
        {
          type: 'Container',
          default: apiAmounts(render.resources.limits),
          defaultRequest: apiAmounts(render.resources.requests),
          max: apiAmounts(render.limitRangeMax),
        },
      ],
    },
  };
  const objects: KubeObject[] = [sealed(namespace, ctx), sealed(quota, ctx), sealed(limitRange, ctx)];
  if (render.networkPolicy.enabled) {
    const denyAll: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(ctx, 'classops-default-deny-ingress', labels),
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [] },
    };
    const allow: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: meta(ctx, 'classops-allow-ingress-and-gallery', labels),
      spec: {
        podSelector: { matchLabels: { [LABEL.managedBy]: MANAGED_BY, [LABEL.name]: APP_NAME } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchLabels: { ...render.networkPolicy.ingressControllerNamespace } } },
              { namespaceSelector: { matchLabels: { ...render.networkPolicy.galleryNamespace } } },
            ],
          },
        ],
      },
    };
    objects.push(sealed(denyAll, ctx), sealed(allow, ctx));
    if (render.networkPolicy.egress.enabled) objects.push(sealed(egressPolicy(ctx, labels), ctx));
  }
  if (render.routing.mode === 'ingress' && render.routing.rewrite === 'traefik') {
    const middleware: TraefikMiddleware & KubeObject = {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'Middleware',
      metadata: meta(ctx, TRAEFIK_MIDDLEWARE, labels),
      spec: { stripPrefixRegex: { regex: [`^${render.routing.pathPrefix}/(week[0-9]+/)?[a-z0-9-]+`] } },
    };
    objects.push(sealed(middleware, ctx));
  }
  return objects;
}

/** The pods and ports of ingress-nginx and of k3s' Traefik that route requests, as their charts label them. */
const CONTROLLERS = {
  nginx: { ports: [80, 443], labels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
  traefik: { ports: [8000, 8443], labels: { 'app.kubernetes.io/name': 'traefik' } },
  none: { ports: [], labels: {} },
};

/**
 * The ingress controller's pods and ports that the course's public URLs reach from inside
 * the cluster (a request to the load balancer is sent straight to those pods): by the
 * controller routing.rewrite names, unless set. Only those pods: another in the namespace
 * (on k3s, kube-system) or the controller's own admission webhook stays out of reach.
 */
function ingressController(render: RenderConfig): { ports: readonly number[]; labels: Record<string, string> } {
  const { ingressControllerPorts: ports, ingressControllerPodLabels: labels } = render.networkPolicy.egress;
  const known = render.routing.mode === 'ingress' ? CONTROLLERS[render.routing.rewrite] : CONTROLLERS.none;
  return {
    ports: ports.length > 0 ? ports : known.ports,
    labels: { ...(Object.keys(labels).length > 0 ? labels : known.labels) },
  };
}

/**
 * Student pods may resolve names, reach the internet and the course's own public URLs,
 * but nothing private: not the cluster, not cloud metadata.
 */
function egressPolicy(ctx: WeekContext, labels: Record<string, string>): KubeObject {
  const { render } = ctx;
  const { dnsNamespace, dnsCidrs, exceptCidrs } = render.networkPolicy.egress;
  const controller = ingressController(render);
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(ctx, 'classops-restrict-egress', labels),
    spec: {
      podSelector: { matchLabels: { [LABEL.managedBy]: MANAGED_BY, [LABEL.name]: APP_NAME } },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            { namespaceSelector: { matchLabels: { ...dnsNamespace } } },
            ...dnsCidrs.map((cidr) => ({ ipBlock: { cidr } })),
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
        ...(controller.ports.length === 0
          ? []
          : [
              {
                to: [
                  {
                    namespaceSelector: { matchLabels: { ...render.networkPolicy.ingressControllerNamespace } },
                    podSelector: { matchLabels: controller.labels },
                  },
                ],
                ports: controller.ports.map((port) => ({ protocol: 'TCP', port })),
              },
            ]),
        {
          to: [
            { ipBlock: { cidr: '0.0.0.0/0', except: exceptCidrs.filter((c) => !isIPv6Range(c)) } },
            { ipBlock: { cidr: '::/0', except: exceptCidrs.filter(isIPv6Range) } },
          ],
        },
      ],
    },
  };
}

export function weekContext(
  config: ClassopsConfig,
  week: number,
  namespace: string,
  revision: string,
  file: string,
): WeekContext {
  return { course: config.course, week, namespace, revision, file, render: config.render };
}
