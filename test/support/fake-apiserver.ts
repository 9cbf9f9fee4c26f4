/**
 * A fake Kubernetes API server over HTTP, for the subset classops uses; the code under
 * test talks to it with the real @kubernetes/client-node through a kubeconfig.
 *
 * Covered: discovery (/api, /apis, resource lists); get, list and watch with label
 * selectors and resourceVersion; create, replace (optimistic concurrency: 409 on a stale
 * resourceVersion), merge patch, server-side apply (apply-patch+yaml, field manager,
 * force, removal of fields a manager stopped applying, no-op applies that change
 * nothing and emit no event); delete; errors as real Status objects; every written
 * object validated against the Kubernetes OpenAPI schemas (kubernetes-models) with 422.
 * Not covered: admission, garbage collection, controllers (tests set status and pods),
 * field-level conflicts between managers without force.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateKubeObject } from './kube-schemas.js';
import { tempDir } from './temp.js';

interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  validate: boolean;
}

const TYPES: ResourceType[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, validate: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, validate: true },
  { group: '', version: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true, validate: true },
  { group: '', version: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true, validate: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true, validate: false },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, validate: false },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true, validate: true },
  { group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', plural: 'ingresses', namespaced: true, validate: true },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    validate: true,
  },
  { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true, validate: false },
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    namespaced: true,
    validate: true,
  },
  {
    group: 'traefik.io',
    version: 'v1alpha1',
    kind: 'Middleware',
    plural: 'middlewares',
    namespaced: true,
    validate: true,
  },
];

type Obj = { apiVersion: string; kind: string; metadata: Record<string, any>; [k: string]: any };
const apiVersionOf = (t: ResourceType) => (t.group === '' ? t.version : `${t.group}/${t.version}`);

export interface Fault {
  method?: string;
  /** Matches when the request path contains this as whole segments (`/leases/classops` is not `/leases/classops-push`). */
  path?: string;
  /**
   * An HTTP status to answer with; 'drop': the connection is closed before the request is
   * handled; 'drop-after': the request is carried out, then the connection is closed
   * instead of answering (the client cannot know it happened).
   */
  status: number | 'drop' | 'drop-after';
  times: number;
  retryAfter?: number;
  /** Runs as the fault is served, e.g. to make another replica's write the one that won. */
  onServed?: () => void;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Obj;
  type_: ResourceType;
}

const isMap = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

function deepMerge(base: any, over: any): any {
  if (!isMap(base) || !isMap(over)) return clone(over);
  const out: Record<string, any> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : clone(v);
  return out;
}

/** Removes from `target` the fields present in `previous` but not in `next` (what a manager stopped applying). */
function removeDropped(target: any, previous: any, next: any): void {
  if (!isMap(target) || !isMap(previous)) return;
  for (const key of Object.keys(previous)) {
    if (!isMap(next) || !(key in next)) delete target[key];
    else if (isMap(previous[key]) && isMap(next[key])) removeDropped(target[key], previous[key], next[key]);
  }
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | null): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  for (const term of selector
    .split(/,(?![^(]*\))/)
    .map((t) => t.trim())
    .filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term))) {
      const equal = l[m[1]!] === m[3];
      if (m[2] === '!=' ? equal : !equal) return false;
    } else if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      const inside = m[1]! in l && values.includes(l[m[1]!]!);
      if (m[2] === 'in' ? !inside : inside) return false;
    } else if ((m = /^!([\w./-]+)$/.exec(term))) {
      if (m[1]! in l) return false;
    } else if (!(term in l)) {
      return false;
    }
  }
  return true;
}

/**
 * A Deployment as its controller reports it once the newest spec runs and is ready (or
 * not yet ready): the status a kube-controller-manager would write, which this server has none of.
 */
export function rolledOut<T extends Obj>(deployment: T, ready = 1): T {
  const generation = deployment.metadata['generation'] as number | undefined;
  return {
    ...deployment,
    status: {
      observedGeneration: generation,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: ready,
      availableReplicas: ready,
    },
  };
}

export class FakeApiServer {
  private server: Server | undefined;
  private readonly objects = new Map<string, Obj>();
  /** Last applied configuration per object and field manager (what SSA compares against). */
  private readonly applied = new Map<string, Map<string, Obj>>();
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<{
    res: ServerResponse;
    type: ResourceType;
    namespace?: string;
    selector: string | null;
  }>();
  private readonly faults: Fault[] = [];
  private rv = 1000;
  port = 0;
  /** Every request, as "METHOD path?query". */
  readonly requests: string[] = [];
  /** Every injected fault that was served, as "METHOD path STATUS": tests assert the fault happened. */
  readonly servedFaults: string[] = [];

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A kubeconfig file for the real client (plain HTTP on loopback, a token it never checks). */
  kubeconfig(context = 'fake'): string {
    const file = join(tempDir('classops-kube-'), 'config');
    writeFileSync(
      file,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true\nusers:\n- name: tester\n  user:\n    token: fake-token\ncontexts:\n- name: ${context}\n  context:\n    cluster: fake\n    user: tester\ncurrent-context: ${context}\n`,
    );
    return file;
  }

  /** Requests that change something (what "zero writes" counts), events excluded unless asked. */
  writes(options: { includeEvents?: boolean } = {}): string[] {
    return this.requests.filter(
      (r) => /^(POST|PUT|PATCH|DELETE) /.test(r) && (options.includeEvents || !r.includes('/events')),
    );
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  /** Closes every open watch, as an API server restart or a load balancer would. */
  dropWatches(): void {
    for (const w of this.watchers) w.res.destroy();
    this.watchers.clear();
  }

  private typeByPlural(group: string, version: string, plural: string): ResourceType | undefined {
    return TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  private typeOf(obj: { apiVersion: string; kind: string }): ResourceType | undefined {
    return TYPES.find((t) => apiVersionOf(t) === obj.apiVersion && t.kind === obj.kind);
  }

  private key(type: ResourceType, namespace: string | undefined, name: string): string {
    return `${apiVersionOf(type)}|${type.kind}|${type.namespaced ? (namespace ?? '') : ''}|${name}`;
  }

  // ---- test helpers: what kubelet and controller-manager would do ----

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined {
    const type = this.typeOf({ apiVersion, kind });
    const found = type && this.objects.get(this.key(type, namespace, name));
    return found ? clone(found) : undefined;
  }

  list(kind: string, namespace?: string): Obj[] {
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace))
      .map(clone);
  }

  /** Writes an object as another actor would (a pod, a status, a hand edit), with a watch event. */
  put(obj: Obj): Obj {
    const type = this.typeOf(obj);
    if (!type) throw new Error(`fake API server has no ${obj.apiVersion} ${obj.kind}`);
    const key = this.key(type, obj.metadata.namespace, obj.metadata.name);
    const existing = this.objects.get(key);
    return this.store(type, key, deepMerge(existing ?? {}, obj), existing === undefined ? 'ADDED' : 'MODIFIED');
  }

  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): void {
    const type = this.typeOf({ apiVersion, kind })!;
    const key = this.key(type, namespace, name);
    const existing = this.objects.get(key);
    if (existing) this.delete(type, key, existing);
  }

  private store(type: ResourceType, key: string, obj: Obj, event: 'ADDED' | 'MODIFIED'): Obj {
    const previous = this.objects.get(key);
    this.rv += 1;
    obj.metadata = {
      ...obj.metadata,
      uid: previous?.metadata.uid ?? randomUUID(),
      creationTimestamp: previous?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: String(this.rv),
      generation:
        (previous?.metadata.generation ?? 0) +
        (previous === undefined || JSON.stringify(previous.spec) !== JSON.stringify(obj.spec) ? 1 : 0),
    };
    this.objects.set(key, obj);
    this.emit({ rv: this.rv, type: event, object: clone(obj), type_: type });
    return clone(obj);
  }

  private delete(type: ResourceType, key: string, existing: Obj): void {
    this.objects.delete(key);
    this.applied.delete(key);
    this.rv += 1;
    this.emit({
      rv: this.rv,
      type: 'DELETED',
      object: { ...clone(existing), metadata: { ...existing.metadata, resourceVersion: String(this.rv) } },
      type_: type,
    });
    if (type.kind === 'Namespace') {
      for (const [k, o] of [...this.objects])
        if (o.metadata.namespace === existing.metadata.name) this.delete(this.typeOf(o)!, k, o);
    }
  }

  private emit(event: WatchEvent): void {
    this.history.push(event);
    for (const w of this.watchers) {
      if (
        w.type !== event.type_ ||
        (w.namespace && w.namespace !== event.object.metadata.namespace) ||
        !matchesSelector(event.object.metadata.labels, w.selector)
      )
        continue;
      w.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
  }

  // ---- HTTP ----

  private status(
    res: ServerResponse,
    code: number,
    reason: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(code, { 'content-type': 'application/json', ...headers });
    res.end(
      JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }),
    );
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private discovery(path: string, res: ServerResponse): boolean {
    if (path === '/api') return (this.json(res, 200, { kind: 'APIVersions', versions: ['v1'] }), true);
    if (path === '/apis') {
      const groups = [...new Set(TYPES.filter((t) => t.group !== '').map((t) => `${t.group}/${t.version}`))].map(
        (gv) => {
          const [name, version] = gv.split('/');
          return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } };
        },
      );
      return (this.json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups }), true);
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (!m) return false;
    const group = m[1] ? '' : m[2]!;
    const version = m[1] ?? m[3]!;
    const resources = TYPES.filter((t) => t.group === group && t.version === version).map((t) => ({
      name: t.plural,
      singularName: t.kind.toLowerCase(),
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    }));
    if (resources.length === 0)
      return (this.status(res, 404, 'NotFound', 'the server could not find the requested resource'), true);
    this.json(res, 200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources,
    });
    return true;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const fault = this.faults.find(
      (f) => f.times > 0 && (!f.method || f.method === method) && (!f.path || containsSegments(url.pathname, f.path)),
    );
    if (fault) {
      fault.times -= 1;
      this.servedFaults.push(`${method} ${url.pathname} ${fault.status}`);
      fault.onServed?.();
      if (fault.status === 'drop') return void req.socket.destroy();
      if (fault.status === 'drop-after') {
        // The connection closes where the answer would start, a watch's stream included.
        res.writeHead = () => (req.socket.destroy(), res);
        res.flushHeaders = () => undefined;
        res.write = () => true;
        res.end = () => res;
      } else {
        const reason =
          { 409: 'Conflict', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable' }[fault.status] ??
          'Unknown';
        return this.status(
          res,
          fault.status,
          reason,
          `injected fault ${fault.status}`,
          fault.retryAfter ? { 'retry-after': String(fault.retryAfter) } : {},
        );
      }
    }
    if (method === 'GET' && this.discovery(url.pathname, res)) return;

    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(.+)$/.exec(url.pathname);
    if (!m) return this.status(res, 404, 'NotFound', `no route for ${url.pathname}`);
    const group = m[1] ? '' : m[2]!;
    const version = m[1] ?? m[3]!;
    const parts = m[4]!.split('/');
    let namespace: string | undefined;
    let plural = parts[0]!;
    let name = parts[1];
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      const inner = this.typeByPlural(group, version, parts[2]!);
      if (inner?.namespaced) {
        namespace = parts[1];
        plural = parts[2]!;
        name = parts[3];
      }
    }
    const type = this.typeByPlural(group, version, plural);
    if (!type) return this.status(res, 404, 'NotFound', `the server could not find the requested resource (${plural})`);
    const body =
      method === 'GET' || method === 'DELETE'
        ? undefined
        : await new Promise<string>((resolve) => {
            let data = '';
            req.on('data', (c: Buffer) => (data += c.toString()));
            req.on('end', () => resolve(data));
          });

    if (method === 'GET' && name === undefined) return this.listOrWatch(type, namespace, url, res);
    if (method === 'GET') {
      const found = this.objects.get(this.key(type, namespace, name!));
      return found
        ? this.json(res, 200, found)
        : this.status(res, 404, 'NotFound', `${type.plural} "${name}" not found`);
    }
    if (method === 'DELETE') {
      const key = this.key(type, namespace, name!);
      const found = this.objects.get(key);
      if (!found) return this.status(res, 404, 'NotFound', `${type.plural} "${name}" not found`);
      this.delete(type, key, found);
      return this.json(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, kind: type.plural, uid: found.metadata.uid },
      });
    }
    let incoming: Obj;
    try {
      incoming = (req.headers['content-type'] ?? '').includes('yaml')
        ? (parse(body ?? '') as Obj)
        : (JSON.parse(body ?? '') as Obj);
    } catch {
      return this.status(res, 400, 'BadRequest', 'the request body is not valid JSON or YAML');
    }
    if (type.namespaced && namespace === undefined)
      return this.status(res, 400, 'BadRequest', 'a namespace is required');
    if (type.namespaced) incoming.metadata = { ...incoming.metadata, namespace };
    if (method === 'POST') return this.create(type, incoming, res);
    const key = this.key(type, namespace, name!);
    const existing = this.objects.get(key);
    if (method === 'PUT') {
      if (!existing) return this.status(res, 404, 'NotFound', `${type.plural} "${name}" not found`);
      if (
        incoming.metadata.resourceVersion &&
        incoming.metadata.resourceVersion !== existing.metadata.resourceVersion
      ) {
        return this.status(
          res,
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        );
      }
      return this.write(
        type,
        key,
        { ...incoming, apiVersion: apiVersionOf(type), kind: type.kind },
        'MODIFIED',
        res,
        200,
        existing,
      );
    }
    if (method === 'PATCH') {
      const contentType = req.headers['content-type'] ?? '';
      if (contentType.startsWith('application/apply-patch'))
        return this.apply(type, key, incoming, url.searchParams.get('fieldManager') ?? '', res);
      if (!existing) return this.status(res, 404, 'NotFound', `${type.plural} "${name}" not found`);
      return this.write(type, key, deepMerge(existing, incoming), 'MODIFIED', res, 200, existing);
    }
    return this.status(res, 405, 'MethodNotAllowed', `${method} is not supported`);
  }

  private validate(type: ResourceType, obj: Obj, res: ServerResponse): boolean {
    if (!type.validate) return true;
    try {
      validateKubeObject(stripServer(obj));
      return true;
    } catch (error) {
      this.status(res, 422, 'Invalid', `${type.kind} "${obj.metadata?.name}" is invalid: ${(error as Error).message}`);
      return false;
    }
  }

  private create(type: ResourceType, obj: Obj, res: ServerResponse): void {
    const key = this.key(type, obj.metadata?.namespace, obj.metadata?.name);
    if (this.objects.has(key))
      return this.status(res, 409, 'AlreadyExists', `${type.plural} "${obj.metadata.name}" already exists`);
    this.write(type, key, { ...obj, apiVersion: apiVersionOf(type), kind: type.kind }, 'ADDED', res, 201, undefined);
  }

  private write(
    type: ResourceType,
    key: string,
    obj: Obj,
    event: 'ADDED' | 'MODIFIED',
    res: ServerResponse,
    code: number,
    existing: Obj | undefined,
  ): void {
    if (!this.validate(type, obj, res)) return;
    if (existing && JSON.stringify(stripServer(existing)) === JSON.stringify(stripServer(obj)))
      return this.json(res, code, existing);
    this.json(res, code, this.store(type, key, obj, event));
  }

  private apply(type: ResourceType, key: string, incoming: Obj, manager: string, res: ServerResponse): void {
    if (!manager) return this.status(res, 400, 'BadRequest', 'PATCH with apply-patch requires fieldManager');
    const existing = this.objects.get(key);
    const mine = this.applied.get(key) ?? new Map<string, Obj>();
    const next = existing ? clone(existing) : ({} as Obj);
    const previous = mine.get(manager);
    if (previous) removeDropped(next, previous, incoming);
    const merged = deepMerge(next, incoming) as Obj;
    merged.apiVersion = apiVersionOf(type);
    merged.kind = type.kind;
    merged.metadata = {
      ...merged.metadata,
      managedFields: [{ manager, operation: 'Apply', apiVersion: apiVersionOf(type) }],
    };
    if (!this.validate(type, merged, res)) return;
    mine.set(manager, clone(incoming));
    this.applied.set(key, mine);
    if (existing && JSON.stringify(stripServer(existing)) === JSON.stringify(stripServer(merged)))
      return this.json(res, 200, existing);
    this.json(res, existing ? 200 : 201, this.store(type, key, merged, existing ? 'MODIFIED' : 'ADDED'));
  }

  private listOrWatch(type: ResourceType, namespace: string | undefined, url: URL, res: ServerResponse): void {
    const selector = url.searchParams.get('labelSelector');
    const matching = [...this.objects.values()].filter(
      (o) =>
        this.typeOf(o) === type &&
        (!namespace || o.metadata.namespace === namespace) &&
        matchesSelector(o.metadata.labels, selector),
    );
    if (url.searchParams.get('watch') !== 'true' && url.searchParams.get('watch') !== '1') {
      return this.json(res, 200, {
        kind: `${type.kind}List`,
        apiVersion: apiVersionOf(type),
        metadata: { resourceVersion: String(this.rv) },
        items: matching,
      });
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // as a real API server does: a watch with nothing to say yet is still open
    const since = Number(url.searchParams.get('resourceVersion') ?? '');
    if (Number.isFinite(since) && since > 0) {
      for (const e of this.history.filter((h) => h.rv > since && h.type_ === type)) {
        if (
          (!namespace || e.object.metadata.namespace === namespace) &&
          matchesSelector(e.object.metadata.labels, selector)
        )
          res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
      }
    } else {
      for (const o of matching) res.write(`${JSON.stringify({ type: 'ADDED', object: o })}\n`);
    }
    const watcher = { res, type, ...(namespace ? { namespace } : {}), selector };
    this.watchers.add(watcher);
    res.on('close', () => this.watchers.delete(watcher));
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: Error) => this.status(res, 500, 'InternalError', error.message));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function stripServer(obj: Obj): Obj {
  const {
    uid: _u,
    creationTimestamp: _c,
    resourceVersion: _r,
    generation: _g,
    managedFields: _m,
    ...meta
  } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

/** Whether `part` occurs in `path` ending where a segment ends (or ending in a slash itself). */
function containsSegments(path: string, part: string): boolean {
  for (let at = path.indexOf(part); at !== -1; at = path.indexOf(part, at + 1)) {
    const next = path[at + part.length];
    if (part.endsWith('/') || next === undefined || next === '/') return true;
  }
  return false;
}
