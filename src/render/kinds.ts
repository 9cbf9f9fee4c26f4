/**
 * The one table of kinds classops manages. Its order is the apply order (a Namespace
 * before what lives in it, a Service before the route to it); pruning goes in reverse.
 * Render produces only these kinds, the cluster lists and watches exactly these, and the
 * RBAC test holds the install manifests to them.
 */
export interface ManagedKind {
  readonly apiVersion: string;
  readonly kind: string;
  /** The resource name in API paths. */
  readonly plural: string;
  readonly namespaced: boolean;
}

export const MANAGED_KINDS: readonly ManagedKind[] = [
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { apiVersion: 'v1', kind: 'ResourceQuota', plural: 'resourcequotas', namespaced: true },
  { apiVersion: 'v1', kind: 'LimitRange', plural: 'limitranges', namespaced: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies', namespaced: true },
  { apiVersion: 'traefik.io/v1alpha1', kind: 'Middleware', plural: 'middlewares', namespaced: true },
  { apiVersion: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', plural: 'ingresses', namespaced: true },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', plural: 'httproutes', namespaced: true },
];

const ORDER = new Map(MANAGED_KINDS.map((k, i) => [k.kind, i]));

/** Position in the apply order; unknown kinds last. */
export function kindOrder(kind: string): number {
  return ORDER.get(kind) ?? MANAGED_KINDS.length;
}

export function isManagedKind(apiVersion: string, kind: string): boolean {
  return MANAGED_KINDS.some((k) => k.apiVersion === apiVersion && k.kind === kind);
}

/** The collection path across all namespaces, as list and watch use it: /apis/apps/v1/deployments. */
export function collectionPath(k: ManagedKind): string {
  return `${k.apiVersion.includes('/') ? '/apis' : '/api'}/${k.apiVersion}/${k.plural}`;
}
