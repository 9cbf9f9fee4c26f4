/**
 * Everything that talks to a named cluster, loaded only when one is named (the
 * Kubernetes client alone costs most of a second to import).
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeTarget } from './apply.js';
import { JsonObjectApi } from './json-api.js';
import { clusterNamed, runningInCluster } from './kube.js';
import { LeaderElector, type LeaderOptions } from './leader.js';
import type { ManagedObjectWatcher } from './watch.js';

export interface ClusterConnection {
  readonly target: KubeTarget;
  /** The namespace the Lease lives in when none is configured: the pod's own, else `default`. */
  readonly defaultLeaseNamespace: string;
  elector(options: LeaderOptions): LeaderElector;
  watcher(onChange: () => void): ManagedObjectWatcher;
}

/** The kubeconfig of a named cluster (file, context, or the pod's service account), or undefined. */
export function kubeConfigFor(
  options: { kubeconfig: string; context: string },
  env: NodeJS.ProcessEnv = process.env,
): KubeConfig | undefined {
  if (!clusterNamed(options, env)) return undefined;
  const kc = new KubeConfig();
  if (options.kubeconfig !== '') kc.loadFromFile(options.kubeconfig.replace(/^~(?=\/)/, env['HOME'] ?? '~'));
  else if (options.context !== '') kc.loadFromDefault();
  else {
    kc.loadFromCluster();
    return kc;
  }
  if (options.context !== '') kc.setCurrentContext(options.context);
  return kc;
}

export function connectCluster(
  options: { kubeconfig: string; context: string },
  env: NodeJS.ProcessEnv,
): ClusterConnection | undefined {
  const kubeConfig = kubeConfigFor(options, env);
  if (kubeConfig === undefined) return undefined;
  const target = new KubeTarget(kubeConfig);
  return {
    target,
    defaultLeaseNamespace: runningInCluster(env) ? (env['POD_NAMESPACE'] ?? 'default') : 'default',
    elector: (leader) => new LeaderElector(kubeConfig.makeApiClient(JsonObjectApi), leader),
    // The watch keeps what it sees, and the target reads it: a no-op pass lists nothing.
    watcher: (onChange) => target.watch(onChange),
  };
}
