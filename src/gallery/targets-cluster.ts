/**
 * Targets in a cluster: the Services classops manages, listed and then watched through
 * @kubernetes/client-node's informer, so a new student appears without a restart. Who the
 * student is and where /student answers come from the Service's annotations.
 */
import type { KubeConfig, V1Service } from '@kubernetes/client-node';
import { backoffMs } from '../cluster/kube.js';
import type { Logger } from '../observability/log.js';
import { ANNOTATION, LABEL, MANAGED_BY } from '../render/names.js';
import { serviceUrl, type GalleryTarget, type TargetSource } from './targets.js';

/**
 * The student a Service stands for, when classops could have rendered it: in one of the
 * course's namespaces and of type ClusterIP. The label alone is anyone's to set, and an
 * ExternalName Service would send the gallery to a host of its author's choosing.
 */
export function targetFromService(
  service: V1Service,
  isCourseNamespace: (namespace: string) => boolean,
): GalleryTarget | undefined {
  const { name, namespace, labels = {}, annotations = {} } = service.metadata ?? {};
  const login = annotations[ANNOTATION.githubUsername] ?? labels[LABEL.student];
  if (name === undefined || namespace === undefined || login === undefined) return undefined;
  if (!isCourseNamespace(namespace) || (service.spec?.type ?? 'ClusterIP') !== 'ClusterIP') return undefined;
  const week = Number(labels[LABEL.week]);
  return {
    key: `${namespace}/${login.toLowerCase()}`,
    githubUsername: login,
    name: annotations[ANNOTATION.displayName],
    week: Number.isInteger(week) ? week : undefined,
    url: serviceUrl(name, namespace, annotations[ANNOTATION.studentEndpoint] ?? '/student'),
    known: undefined,
  };
}

/** Lists and watches managed Services; `loaded()` turns true once a first list arrived (failures are retried). */
export async function watchClusterTargets(
  kubeConfig: KubeConfig,
  log: Logger,
  isCourseNamespace: (namespace: string) => boolean,
  onChange: () => void = () => undefined,
): Promise<TargetSource> {
  const k8s = await import('@kubernetes/client-node');
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const labelSelector = `${LABEL.managedBy}=${MANAGED_BY}`;
  let targets: readonly GalleryTarget[] = [];
  let loaded = false;
  let stopped = false;
  let failures = 0;
  let retry: NodeJS.Timeout | undefined;
  const refresh = () => {
    targets = informer.list().flatMap((s) => targetFromService(s, isCourseNamespace) ?? []);
    onChange();
  };
  const informer = k8s.makeInformer<V1Service>(
    kubeConfig,
    '/api/v1/services',
    async () => {
      const list = await api.listServiceForAllNamespaces({ labelSelector });
      // The informer files the list into its cache right after this returns; read it then.
      setImmediate(() => {
        loaded = true;
        failures = 0;
        refresh();
      });
      return list;
    },
    labelSelector,
  );
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, refresh);
  // The informer stops on an error; start it again with backoff (it lists afresh, so nothing is missed).
  const onError = (error: unknown) => {
    if (stopped) return;
    log.warn('listing or watching Services failed; retrying', {
      error: error instanceof Error ? error.message : String(error),
    });
    clearTimeout(retry);
    retry = setTimeout(start, backoffMs(Math.min(failures++, 8), { baseMs: 500, maxMs: 30_000 }));
    retry.unref();
  };
  const start = () => void informer.start().catch(onError);
  informer.on('error', onError);
  start();
  return {
    description: 'managed Services in the cluster',
    current: () => targets,
    loaded: () => loaded,
    stop: () => {
      stopped = true;
      clearTimeout(retry);
      void informer.stop();
    },
  };
}
