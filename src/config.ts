/**
 * One typed configuration for every command: `classops.yaml` (or --config PATH), then
 * CLASSOPS_* environment variables, then flags. Checked by schemas/config.schema.json,
 * which also holds every default.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readRegularFile } from './regular-file.js';
import { cidrProblem } from './cidr.js';
import { exceeds, inThousandths, parseQuantity } from './quantity.js';
import { loadSchema, schemaValidator } from './schemas.js';

export interface PolicyConfig {
  readonly allowedRegistries: readonly string[];
  readonly imageOwnerMustMatchUsername: boolean;
  readonly instructors: readonly string[];
  readonly limits: {
    readonly maxFileBytes: number;
    readonly maxEntries: number;
    readonly maxAliases: number;
    /** The most bytes a student's pull request may add to one roster file. */
    readonly maxGrowthBytes: number;
  };
}

export interface ResourceAmounts {
  readonly cpu: string;
  readonly memory: string;
  /** The container's writable layer and logs (`ephemeral-storage`): a full disk evicts every pod on the node. */
  readonly ephemeralStorage: string;
}

/** Each amount a container is given, as the API names it. */
export const RESOURCE_NAMES = { cpu: 'cpu', memory: 'memory', ephemeralStorage: 'ephemeral-storage' } as const;

/** Amounts in the API's names: `{ cpu, memory, 'ephemeral-storage' }`. */
export const apiAmounts = (amounts: ResourceAmounts): Record<string, string> =>
  Object.fromEntries(
    Object.entries(RESOURCE_NAMES).map(([key, name]) => [name, amounts[key as keyof ResourceAmounts]]),
  );

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface RoutingConfig {
  readonly mode: 'ingress' | 'httproute';
  readonly host: string;
  readonly pathPrefix: string;
  readonly ingressClassName: string;
  readonly rewrite: 'nginx' | 'traefik' | 'none';
  readonly tlsSecretName: string;
  readonly parentRefs: ReadonlyArray<{
    readonly name: string;
    readonly namespace?: string;
    readonly sectionName?: string;
  }>;
}

export interface EgressConfig {
  readonly enabled: boolean;
  readonly dnsNamespace: Readonly<Record<string, string>>;
  readonly dnsCidrs: readonly string[];
  readonly exceptCidrs: readonly string[];
  readonly ingressControllerPorts: readonly number[];
  readonly ingressControllerPodLabels: Readonly<Record<string, string>>;
}

export interface RenderConfig {
  readonly namespaceTemplate: string;
  readonly allowedNamespaces: readonly string[];
  readonly resources: { readonly requests: ResourceAmounts; readonly limits: ResourceAmounts };
  readonly runAsNonRoot: boolean;
  readonly pinDigests: boolean;
  readonly revisionHistoryLimit: number;
  readonly podSecurity: {
    readonly enforce: PodSecurityLevel;
    readonly warn: PodSecurityLevel;
    readonly audit: PodSecurityLevel;
  };
  readonly quota: Readonly<Record<string, string>>;
  readonly limitRangeMax: ResourceAmounts;
  readonly networkPolicy: {
    readonly enabled: boolean;
    readonly ingressControllerNamespace: Readonly<Record<string, string>>;
    readonly galleryNamespace: Readonly<Record<string, string>>;
    readonly egress: EgressConfig;
  };
  readonly routing: RoutingConfig;
}

export interface RegistryConfig {
  readonly requiredPlatform: string;
  readonly cacheTtl: { readonly positive: string; readonly negative: string };
  readonly concurrencyPerRegistry: number;
  readonly timeout: string;
  readonly maxManifestBytes: number;
  readonly plainHttp: readonly string[];
}

export interface SourceConfig {
  readonly kind: 'dir' | 'git';
  readonly path: string;
  readonly url: string;
  readonly branch: string;
  readonly tokenFile: string;
  readonly sshKeyFile: string;
  readonly pollInterval: string;
}

export interface ClusterConfig {
  readonly kubeconfig: string;
  readonly context: string;
  readonly manifestsDir: string;
  readonly maxPruneFraction: number;
  readonly resyncInterval: string;
  readonly leaderElection: {
    readonly enabled: boolean;
    readonly leaseName: string;
    readonly leaseNamespace: string;
    readonly leaseDuration: string;
    readonly renewInterval: string;
  };
}

export interface GalleryConfig {
  readonly port: number;
  readonly host: string;
  readonly fetchTimeout: string;
  readonly refreshInterval: string;
  readonly maxBodyBytes: number;
  readonly concurrency: number;
  readonly title: string;
  readonly linkBase: string;
}

export interface GithubConfig {
  readonly webhookSecretFile: string;
  readonly webhookPreviousSecretFile: string;
  readonly tokenFile: string;
  readonly apiUrl: string;
  readonly repository: string;
  readonly statuses: boolean;
}

export interface ClassopsConfig {
  readonly course: string;
  readonly source: SourceConfig;
  readonly cluster: ClusterConfig;
  readonly server: { readonly port: number; readonly host: string };
  readonly policy: PolicyConfig;
  readonly render: RenderConfig;
  readonly registry: RegistryConfig;
  readonly gallery: GalleryConfig;
  readonly github: GithubConfig;
}

/** `10m` → 600 000. Durations in the config are checked by its schema. */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (match === null) throw new ConfigError(`invalid duration "${text}" (use e.g. 500ms, 10s, 5m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const DEFAULT_CONFIG_FILE = 'classops.yaml';

/**
 * What to tell someone who runs a command without --config in a folder with no
 * classops.yaml, below one that has it (say, inside students/): only ./classops.yaml is
 * read, so the default rules apply, not the course's. Undefined when nothing is above.
 */
export function configAboveNote(cwd = process.cwd()): string | undefined {
  // Never above the repository's root: a classops.yaml there belongs to something else.
  const isRoot = (dir: string) => existsSync(join(dir, '.git')) || dirname(dir) === dir;
  if (existsSync(join(cwd, DEFAULT_CONFIG_FILE)) || isRoot(resolve(cwd))) return undefined;
  for (let dir = dirname(resolve(cwd)); ; dir = dirname(dir)) {
    const above = join(dir, DEFAULT_CONFIG_FILE);
    if (existsSync(above)) {
      const shown = relative(cwd, above);
      return `no ${DEFAULT_CONFIG_FILE} here, so the default rules apply; the course's may be ${shown}: run from ${relative(cwd, dir)}, or pass --config ${shown}`;
    }
    if (isRoot(dir)) return undefined;
  }
}

export interface LoadConfigOptions {
  /** An explicit --config path; it must exist. Otherwise ./classops.yaml is read when present. */
  readonly file?: string | undefined;
  /** The file's text as read elsewhere (e.g. from a git revision); `file` then only names it. */
  readonly contents?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Values from flags, as a partial config object; they win over file and env. */
  readonly overrides?: Record<string, unknown>;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** The environment variable that sets a config path, e.g. CLASSOPS_POLICY_LIMITS_MAX_ENTRIES. */
export function envName(path: readonly string[]): string {
  return `CLASSOPS_${path.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

/** Every leaf of the schema with its type, so each one can be set from the environment. */
function schemaLeaves(schema: Json, path: string[] = []): Array<{ path: string[]; type: string }> {
  const props = schema['properties'];
  if (schema['type'] === 'object' && isObject(props)) {
    return Object.entries(props).flatMap(([key, sub]) => (isObject(sub) ? schemaLeaves(sub, [...path, key]) : []));
  }
  // A leaf without a type is an enum of strings; an object without properties is a map (set as JSON).
  const type = typeof schema['type'] === 'string' ? schema['type'] : 'string';
  return [{ path, type }];
}

function envValue(raw: string, type: string, name: string): unknown {
  switch (type) {
    case 'array':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'boolean':
      if (/^(true|1|yes)$/i.test(raw)) return true;
      if (/^(false|0|no)$/i.test(raw)) return false;
      throw new ConfigError(`${name}: expected true or false, got "${raw}"`);
    case 'integer':
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${name}: expected a number, got "${raw}"`);
      return n;
    }
    case 'object':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ConfigError(`${name}: expected a JSON object, got "${raw}"`);
      }
    default:
      return raw;
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Json {
  let out: Json = {};
  for (const leaf of schemaLeaves(loadSchema('config'))) {
    const name = envName(leaf.path);
    const raw = env[name];
    if (raw === undefined) continue;
    let value: unknown = envValue(raw, leaf.type, name);
    for (const key of [...leaf.path].reverse()) value = { [key]: value };
    out = deepMerge(out, value as Json);
  }
  return out;
}

/** Far more than any course's rules; a config this large is something else. */
const MAX_CONFIG_BYTES = 1 << 20;

function readConfigFile(file: string, contents: string | undefined): Json {
  let text: string;
  try {
    text = contents ?? readRegularFile(file, MAX_CONFIG_BYTES).toString('utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = parseYaml(text, { maxAliasCount: 10 }) ?? {};
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (!isObject(data)) throw new ConfigError(`config file ${file} must be a mapping of sections`);
  return data;
}

export function loadConfig(options: LoadConfigOptions = {}): ClassopsConfig {
  const file = options.file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  let merged = file === undefined ? {} : readConfigFile(file, options.contents);
  merged = deepMerge(merged, fromEnv(options.env ?? process.env));
  merged = deepMerge(merged, options.overrides ?? {});
  const validate = schemaValidator('config', { useDefaults: true });
  const invalid = (problems: string[]) =>
    new ConfigError(`invalid configuration${file === undefined ? '' : ` in ${file}`}: ${problems.join('; ')}`);
  if (!validate(merged)) {
    throw invalid(
      (validate.errors ?? []).map((e) => {
        const unknown = (e.params as { additionalProperty?: string }).additionalProperty;
        const key = unknown === undefined ? '' : `: ${JSON.stringify(unknown)}`;
        return `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}${key}`;
      }),
    );
  }
  const config = merged as unknown as ClassopsConfig;
  const problems = [
    ...durationProblems(config),
    ...resourceProblems(config.render),
    ...egressProblems(config.render.networkPolicy.egress),
  ];
  if (problems.length > 0) throw invalid(problems);
  return config;
}

/**
 * The shortest each duration may be: zero polls or resyncs in a busy loop, a zero timeout
 * fails every request, and a Lease is kept in whole seconds. Each is a timer's delay too,
 * and Node fires at once any delay past TIMER_MAX_MS.
 */
const DURATION_FLOORS: ReadonlyArray<[string, (c: ClassopsConfig) => string, number]> = [
  ['source.pollInterval', (c) => c.source.pollInterval, 100],
  ['cluster.resyncInterval', (c) => c.cluster.resyncInterval, 100],
  ['registry.timeout', (c) => c.registry.timeout, 1000],
  ['gallery.fetchTimeout', (c) => c.gallery.fetchTimeout, 100],
  ['gallery.refreshInterval', (c) => c.gallery.refreshInterval, 1000],
  ['cluster.leaderElection.leaseDuration', (c) => c.cluster.leaderElection.leaseDuration, 1000],
  ['cluster.leaderElection.renewInterval', (c) => c.cluster.leaderElection.renewInterval, 10],
];

/** The longest delay a Node timer keeps (2³¹−1 ms, about 24.8 days); 596h is the last whole hour under it. */
const TIMER_MAX_MS = 2 ** 31 - 1;

const shownMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

function durationProblems(config: ClassopsConfig): string[] {
  const problems: string[] = [];
  for (const [name, read, floor] of DURATION_FLOORS) {
    const text = read(config);
    if (text !== '' && durationMs(text) < floor)
      problems.push(`${name} ${JSON.stringify(text)} is shorter than ${shownMs(floor)}`);
    if (text !== '' && durationMs(text) > TIMER_MAX_MS)
      problems.push(`${name} ${JSON.stringify(text)} is longer than 596h, the longest wait a timer keeps`);
  }
  const { enabled, leaseDuration, renewInterval } = config.cluster.leaderElection;
  if (enabled && durationMs(renewInterval) >= durationMs(leaseDuration))
    problems.push(
      `cluster.leaderElection.renewInterval ${JSON.stringify(renewInterval)} must be shorter than leaseDuration ${JSON.stringify(leaseDuration)}`,
    );
  return problems;
}

/** Ranges the API server would refuse in a week's egress policy, which would then leave the week's pods unrestricted. */
function egressProblems({ dnsCidrs, exceptCidrs }: EgressConfig): string[] {
  const problems = (name: string, cidrs: readonly string[], strict: boolean) =>
    cidrs.flatMap((cidr, i) => {
      const problem = cidrProblem(cidr, strict);
      return problem === undefined
        ? []
        : [`render.networkPolicy.egress.${name}[${i}] ${JSON.stringify(cidr)} ${problem}`];
    });
  return [...problems('dnsCidrs', dnsCidrs, false), ...problems('exceptCidrs', exceptCidrs, true)];
}

/** A qualified name, as the API server checks a quota's resource names: an optional DNS subdomain and `/`, then a name. */
const QUALIFIED_NAME =
  /^(?:(?=.{1,253}\/)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?(?=.{1,63}$)[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Quota resources the API server counts one by one, so it takes only whole numbers of them. */
const COUNTED_QUOTA_RESOURCES = new Set([
  'pods',
  'resourcequotas',
  'services',
  'replicationcontrollers',
  'secrets',
  'persistentvolumeclaims',
  'configmaps',
  'services.nodeports',
  'services.loadbalancers',
]);

/** What a ResourceQuota may limit by a plain name (Kubernetes' standard quota resources); any other needs a `domain/` or `count/` prefix. */
const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.storage',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  ...COUNTED_QUOTA_RESOURCES,
]);

/** Whole numbers only: counted resources, `count/…`, and extended resources (`example.com/gpu`; not `requests.…`). */
const isCountedQuota = (key: string): boolean =>
  COUNTED_QUOTA_RESOURCES.has(key) ||
  (key.includes('/') && !key.startsWith('requests.') && !key.includes('kubernetes.io/'));

/** Why the API server would refuse a quota that limits `key`, or undefined. */
function quotaKeyProblem(key: string): string | undefined {
  if (!QUALIFIED_NAME.test(key))
    return `render.quota ${JSON.stringify(key)} is not a resource name (letters, digits, "-", "_" and ".", after an optional "domain/")`;
  const standard = STANDARD_QUOTA_RESOURCES.has(key) || /^(?:requests\.)?hugepages-/.test(key);
  if (!key.includes('/') && !standard)
    return `render.quota ${JSON.stringify(key)} is not a resource a ResourceQuota limits (e.g. pods, requests.cpu, limits.memory, count/deployments.apps)`;
  return undefined;
}

/** What an amount is in, where that restricts how it is written: bytes, or things counted one by one. */
type Unit = 'bytes' | 'count' | undefined;

/**
 * Resources that no API server would take, or that no pod could run with: refused before a
 * pass writes a single object (each would be refused on its own, or run every student out).
 */
function resourceProblems(render: RenderConfig): string[] {
  const problems: string[] = [];
  const { requests, limits } = render.resources;
  const max = render.limitRangeMax;
  const kinds = Object.keys(RESOURCE_NAMES) as Array<keyof ResourceAmounts>;
  // Bytes, not cores: a thousandth of one is a mistake.
  const inBytes = (kind: string) => (kind === 'cpu' ? undefined : 'bytes');
  const amounts: Array<[string, string, Unit]> = [
    ...(['requests', 'limits'] as const).flatMap((side) =>
      kinds.map((kind): [string, string, Unit] => [
        `render.resources.${side}.${kind}`,
        render.resources[side][kind],
        inBytes(kind),
      ]),
    ),
    ...kinds.map((kind): [string, string, Unit] => [`render.limitRangeMax.${kind}`, max[kind], inBytes(kind)]),
    ...Object.entries(render.quota).map(([key, value]): [string, string, Unit] => [
      `render.quota.${key}`,
      value,
      isCountedQuota(key) ? 'count' : /(memory|storage)$/.test(key) ? 'bytes' : undefined,
    ]),
  ];
  problems.push(...Object.keys(render.quota).flatMap((key) => quotaKeyProblem(key) ?? []));
  for (const [name, text, kind] of amounts) {
    const amount = parseQuantity(text);
    if (amount === undefined)
      problems.push(`${name} ${JSON.stringify(text)} is not a Kubernetes quantity (e.g. 150, 500m, 12Gi)`);
    else if (kind === 'count' && amount.numerator % amount.denominator !== 0n)
      problems.push(`${name} ${JSON.stringify(text)} must be a whole number: the API server counts these one by one`);
    else if (kind === 'bytes' && inThousandths(text))
      problems.push(`${name} ${JSON.stringify(text)} is thousandths of a byte; write Mi or Gi (e.g. 64Mi)`);
  }
  const order = (small: [string, string], large: [string, string]) => {
    const [a, b] = [parseQuantity(small[1]), parseQuantity(large[1])];
    if (a !== undefined && b !== undefined && exceeds(a, b))
      problems.push(`${small[0]} ${JSON.stringify(small[1])} is more than ${large[0]} ${JSON.stringify(large[1])}`);
  };
  for (const kind of kinds) {
    order([`render.resources.requests.${kind}`, requests[kind]], [`render.resources.limits.${kind}`, limits[kind]]);
    order([`render.resources.limits.${kind}`, limits[kind]], [`render.limitRangeMax.${kind}`, max[kind]]);
  }
  return problems;
}
