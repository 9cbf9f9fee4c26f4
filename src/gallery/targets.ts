/**
 * Where each student's app is: the list the collector fetches. Targets come from a
 * static file, from the cluster's Services, or from the controller's State; the
 * collector sees only this shape.
 */

/** A status decided without fetching: the controller knows the app is not running anywhere. */
export interface KnownStatus {
  readonly status: 'not-deployed' | 'unreachable';
  readonly reason: string;
}

export interface GalleryTarget {
  /** Stable identity across refreshes: `namespace/login` or `file/login`. */
  readonly key: string;
  /** The roster's login: a live answer must say the same (case-insensitively). */
  readonly githubUsername: string;
  readonly name: string | undefined;
  readonly week: number | undefined;
  /** The full URL of the student's `/student`; undefined when `known` says why not. */
  readonly url: string | undefined;
  readonly known: KnownStatus | undefined;
}

export interface TargetSource {
  readonly description: string;
  /** The targets as last loaded; empty until `loaded`. */
  current(): readonly GalleryTarget[];
  /** True once a first list of targets was loaded (what /readyz reports). */
  loaded(): boolean;
  stop(): void;
}

/** The in-cluster URL of a student's endpoint behind the Service classops rendered (port 80). */
export function serviceUrl(service: string, namespace: string, endpoint: string): string {
  const path = endpoint.startsWith('/') ? endpoint : `/${endpoint}`;
  return `http://${service}.${namespace}.svc:80${path}`;
}

/** A source whose list is fixed or computed on each call (State, tests). */
export function targetsFrom(description: string, list: () => readonly GalleryTarget[]): TargetSource {
  return { description, current: list, loaded: () => true, stop: () => undefined };
}
