/** The cluster as a Target: server-side apply with field manager `classops`, pruning, events, student health. */
import { CoreV1Api, KubeConfig, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { JsonObjectApi } from './json-api.js';
import { LABEL, MANAGED_BY } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import { isNotFound, withRetries } from './kube.js';
import { MANAGED_KINDS } from '../render/kinds.js';
import { describeRef, refOf, type ObjectRef, type StudentHealth, type Target } from './target.js';
import { ManagedObjectWatcher } from './watch.js';
import { shown } from '../unsafe-characters.js';

export const FIELD_MANAGER = 'classops';
const MANAGED_SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;
/** Container states that mean the app will not come up without a change. */
const FAILING_REASONS = new Set([
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

interface DeploymentStatus {
  readonly observedGeneration?: number;
  readonly replicas?: number;
  readonly updatedReplicas?: number;
  readonly readyReplicas?: number;
  readonly conditions?: ReadonlyArray<{ type?: string; status?: string; reason?: string; message?: string }>;
}

/**
 * Whether every pod runs the newest spec, as `kubectl rollout status` judges it: until then
 * a Ready pod may be the previous version's (maxUnavailable 0 keeps it while the new one
 * fails), and a commit's app is not live.
 */
function rolledOut(d: KubeObject, status: DeploymentStatus): boolean {
  const generation = d.metadata.generation;
  const observed = typeof generation !== 'number' || count(status.observedGeneration) >= generation;
  const updated = count(status.updatedReplicas);
  return observed && updated >= 1 && (status.replicas === undefined || count(status.replicas) <= updated);
}

/** A count from a status, 0 when it is not a number (the API's status always is; a broken proxy's may not be). */
const count = (value: unknown): number => (typeof value === 'number' ? value : 0);

/**
 * Why the API server refuses the Deployment's pod (its ReplicaFailure condition), or
 * undefined: most often the week's ResourceQuota is full, which only an instructor can change.
 */
function refusedPod(status: DeploymentStatus): StudentHealth | undefined {
  const conditions: unknown[] = Array.isArray(status.conditions) ? status.conditions : [];
  const failure = conditions.find(
    (c): c is { message?: unknown } =>
      typeof c === 'object' &&
      c !== null &&
      'type' in c &&
      c.type === 'ReplicaFailure' &&
      'status' in c &&
      c.status === 'True',
  );
  if (failure === undefined) return undefined;
  const message = typeof failure.message === 'string' ? failure.message : '';
  if (message.includes('exceeded quota'))
    // A whole week rolling out at once needs up to a pod more per student: room comes as rollouts end.
    return count(status.readyReplicas) >= 1
      ? {
          phase: 'Progressing',
          reason: "the new version waits for room in the week's ResourceQuota; the previous one answers",
        }
      : { phase: 'Failing', reason: "the week's ResourceQuota is full: an instructor must raise render.quota" };
  // An admission webhook's words, on their way to commit statuses and metric labels.
  const why = message === '' ? 'no reason given' : shown(message, 200);
  return { phase: 'Failing', reason: `the cluster refuses its pod: ${why}` };
}

export class KubeTarget implements Target {
  readonly description: string;
  readonly objects: JsonObjectApi;
  private readonly core: CoreV1Api;
  /** Counts API writes (apply, delete, events), for the no-op guarantee and the benchmark. */
  writes = 0;

  constructor(readonly kubeConfig: KubeConfig) {
    this.description = `cluster ${kubeConfig.getCurrentCluster()?.server ?? '(unknown)'}`;
    this.objects = kubeConfig.makeApiClient(JsonObjectApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** The watch that keeps the managed objects, once `watch` made one. */
  private watcher: ManagedObjectWatcher | undefined;

  /** A watch of every managed kind that calls `onChange` on an edit or deletion, and keeps what it sees for `listCached`. */
  watch(onChange: () => void): ManagedObjectWatcher {
    this.watcher = new ManagedObjectWatcher(this.kubeConfig, onChange, this.objects);
    return this.watcher;
  }

  listCached(): KubeObject[] | undefined {
    return this.watcher?.cached();
  }

  async listManaged(): Promise<KubeObject[]> {
    const all: KubeObject[] = [];
    for (const { apiVersion, kind } of MANAGED_KINDS) {
      try {
        const items = await withRetries(`list ${kind}`, () => this.objects.listAll(apiVersion, kind, MANAGED_SELECTOR));
        for (const item of items ?? []) all.push({ ...item, apiVersion, kind } as KubeObject);
      } catch (error) {
        // A kind whose CRD is not installed (HTTPRoute, Traefik's Middleware) has nothing of ours: its
        // group's discovery answers 404, or (group served, kind not) listAll gives undefined.
        if (isNotFound(error)) continue;
        throw error;
      }
    }
    return all;
  }

  async apply(object: KubeObject): Promise<void> {
    this.writes += 1;
    await withRetries(`apply ${describeRef(refOf(object))}`, () =>
      this.objects.apply(object as KubernetesObject, FIELD_MANAGER),
    );
  }

  async remove(ref: ObjectRef): Promise<void> {
    this.writes += 1;
    try {
      await withRetries(`delete ${describeRef(ref)}`, () =>
        this.objects.remove({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        }),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error; // already gone is what we wanted
    }
  }

  async health(): Promise<Map<string, StudentHealth>> {
    // The watch's copy holds each Deployment's status as the cluster last reported it: no listing needed.
    const deployments =
      this.listCached()?.filter((o) => o.kind === 'Deployment') ??
      (await withRetries('list Deployment', () => this.objects.listAll('apps/v1', 'Deployment', MANAGED_SELECTOR))) ??
      [];
    const result = new Map<string, StudentHealth>();
    const namespaces = [...new Set(deployments.map((d) => (d as KubeObject).metadata.namespace ?? ''))];
    const pods: V1Pod[] = [];
    for (const namespace of namespaces) {
      const list = await withRetries(`list pods in ${namespace}`, () =>
        this.core.listNamespacedPod({ namespace, labelSelector: MANAGED_SELECTOR }),
      );
      pods.push(...list.items);
    }
    for (const d of deployments as KubeObject[]) {
      const student = d.metadata.labels?.[LABEL.student] ?? d.metadata.name;
      const key = `${d.metadata.namespace}/${student}`;
      const status = (d['status'] ?? {}) as DeploymentStatus;
      if (rolledOut(d, status) && count(status.readyReplicas) >= 1) {
        result.set(key, { phase: 'Ready', reason: undefined });
        continue;
      }
      // Not Ready, or Ready with the previous version: what the newest one is doing decides.
      const mine = pods.filter(
        (p) => p.metadata?.namespace === d.metadata.namespace && p.metadata?.labels?.[LABEL.student] === student,
      );
      const waiting = mine
        .flatMap((p) => p.status?.containerStatuses ?? [])
        .map((c) => c.state?.waiting?.reason)
        .find((r) => r !== undefined);
      const unready = mine
        .flatMap((p) => p.status?.containerStatuses ?? [])
        .find((c) => c.state?.running !== undefined && !c.ready);
      const unschedulable = mine
        .flatMap((p) => p.status?.conditions ?? [])
        .find((c) => c.type === 'PodScheduled' && c.status === 'False');
      const refused = refusedPod(status);
      if (waiting !== undefined && FAILING_REASONS.has(waiting)) result.set(key, { phase: 'Failing', reason: waiting });
      else if (unready !== undefined && (unready.restartCount ?? 0) > 0)
        result.set(key, { phase: 'Failing', reason: 'probe failures: the app restarts' });
      else if (unready !== undefined)
        result.set(key, { phase: 'Progressing', reason: 'readiness probe not passing yet' });
      else if (unschedulable !== undefined)
        result.set(key, { phase: 'Pending', reason: unschedulable.reason ?? 'Unschedulable' });
      else if (refused !== undefined) result.set(key, refused);
      else if (mine.length === 0 || mine.some((p) => p.status?.phase === 'Pending'))
        result.set(key, { phase: 'Pending', reason: waiting ?? 'waiting for a pod' });
      else result.set(key, { phase: 'Progressing', reason: waiting });
    }
    return result;
  }

  async event(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const namespace = ref.namespace ?? 'default';
    const now = new Date();
    this.writes += 1;
    try {
      await withRetries('record event', () =>
        this.core.createNamespacedEvent({
          namespace,
          body: {
            metadata: {
              name: `${ref.name}.${now.getTime().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`,
              namespace,
            },
            involvedObject: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, namespace: ref.namespace },
            reason,
            message: message.slice(0, 1024),
            type,
            source: { component: 'classops' },
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        }),
      );
    } catch {
      // Events are best effort: never fail a reconcile over one.
    }
  }
}
