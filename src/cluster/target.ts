/** Where desired objects go: a Kubernetes cluster, or a folder of manifests (the embedded default). */
import type { KubeObject } from '../render/objects.js';

export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
}

export type StudentPhase = 'Ready' | 'Progressing' | 'Pending' | 'Failing' | 'Rendered' | 'Unknown';

export interface StudentHealth {
  readonly phase: StudentPhase;
  /** Why it is not Ready: ImagePullBackOff, CrashLoopBackOff, probe failures… */
  readonly reason: string | undefined;
}

export interface Target {
  readonly description: string;
  /** Every object classops manages (label app.kubernetes.io/managed-by=classops). */
  listManaged(): Promise<KubeObject[]>;
  /**
   * The same objects as a watch last saw them, without asking the API server, or
   * undefined when no watch is following every kind. Possibly behind: the reconciler
   * writes and prunes only from a fresh listing.
   */
  listCached?(): KubeObject[] | undefined;
  /**
   * Whether a listed object is exactly what classops last wrote, untouched since (a file
   * whose bytes are unchanged): it then matches any desired object with its spec hash, and
   * no field needs comparing. A cluster cannot say this: its server adds fields.
   */
  writtenAsIs?(object: KubeObject): boolean;
  /**
   * Whether a listed object must be written again whatever its fields say: a folder file
   * not in the form classops writes, which YAML readers may read otherwise than classops.
   */
  needsRewrite?(object: KubeObject): boolean;
  /**
   * Whether listed objects are exactly what was written, with nothing added: true for a
   * folder. An API server adds defaults and status, so there only the fields classops sets
   * are compared; in a folder a field someone added is drift too.
   */
  readonly exact?: boolean;
  /** Server-side apply (or write) one object. */
  apply(object: KubeObject): Promise<void>;
  remove(object: ObjectRef): Promise<void>;
  /** Health of each student's app, by `namespace/login`, read fresh (after applying). */
  health(): Promise<Map<string, StudentHealth>>;
  /**
   * Persists what a pass wrote, where the target keeps state of its own (the folder's
   * index). `upToDate`: the listed objects the pass found equal to what is desired.
   */
  finishPass?(upToDate: readonly KubeObject[]): Promise<void>;
  /** Records a Kubernetes Event on an object, where the target has events. */
  event(object: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export function refOf(object: KubeObject): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  };
}

/** The namespace an object belongs to: a Namespace's own name, else the one it lives in ('' for none). */
export const namespaceOfRef = (ref: ObjectRef): string => (ref.kind === 'Namespace' ? ref.name : (ref.namespace ?? ''));

export function keyOf(ref: ObjectRef): string {
  return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}
