/**
 * The one place that knows each student's last-known-good entry and live status. The
 * reconciler writes it; the status API, metrics and gallery read it. Last-known-good is
 * rebuilt from what is applied (annotations carry the entry), so a restart changes nothing.
 */
import type { StudentHealth } from '../cluster/target.js';
import type { Finding, StudentEntry } from '../roster/model.js';
import { ANNOTATION, LABEL } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import type { WeekIdentity } from '../render/week.js';
import type { Verdict } from '../registry/verdict.js';

export interface LastGood {
  readonly week: WeekIdentity;
  readonly entry: StudentEntry;
  readonly digest: string | undefined;
}

/** deployed: running what the roster says; kept: running the last-known-good because the current entry cannot be used; absent: not deployed. */
export type Deployment = 'deployed' | 'kept' | 'absent';

export interface StudentStatus {
  readonly namespace: string;
  readonly week: number;
  readonly file: string;
  readonly githubUsername: string;
  readonly name: string | undefined;
  readonly deployment: Deployment;
  /** Why the student is kept or absent. */
  readonly reason: string | undefined;
  readonly image: string | undefined;
  readonly verdict: Verdict['kind'] | undefined;
  readonly findings: readonly Finding[];
  readonly health: StudentHealth | undefined;
  /** Service and endpoint, for the gallery. */
  readonly service: string | undefined;
  readonly studentEndpoint: string | undefined;
}

export interface FileStatus {
  readonly file: string;
  readonly complete: boolean;
  readonly week: number | undefined;
  readonly entries: number;
  readonly validEntries: number;
  readonly findings: readonly Finding[];
}

export interface ReconcileRecord {
  readonly revision: string | undefined;
  readonly result: 'success' | 'partial' | 'failure' | 'refused' | undefined;
  readonly finishedAt: string | undefined;
  readonly lastSuccessAt: string | undefined;
  readonly error: string | undefined;
  readonly writes: number;
  readonly durationSeconds: number | undefined;
  readonly refusedPrunes: readonly string[];
}

export const studentKey = (namespace: string, login: string) => `${namespace}/${login.toLowerCase()}`;

const isEntry = (v: unknown): v is StudentEntry => {
  const e = v as Record<string, unknown>;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof e['name'] === 'string' &&
    typeof e['githubUsername'] === 'string' &&
    typeof e['containerImage'] === 'string' &&
    typeof e['studentEndpoint'] === 'string' &&
    typeof e['healthEndpoint'] === 'string' &&
    typeof e['port'] === 'number'
  );
};

export class State {
  readonly lastGood = new Map<string, LastGood>();
  /** Last week identity of each file whose roster was complete. */
  readonly weeks = new Map<string, WeekIdentity>();
  students = new Map<string, StudentStatus>();
  files = new Map<string, FileStatus>();
  reconcile: ReconcileRecord = {
    revision: undefined,
    result: undefined,
    finishedAt: undefined,
    lastSuccessAt: undefined,
    error: undefined,
    writes: 0,
    durationSeconds: undefined,
    refusedPrunes: [],
  };
  private restored = false;

  /** Reads last-known-good back from applied Deployments, once, before the first reconcile. */
  restoreFromLive(live: readonly KubeObject[]): void {
    if (this.restored) return;
    this.restored = true;
    for (const object of live) {
      const annotations = object.metadata.annotations ?? {};
      const file = annotations[ANNOTATION.sourceFile];
      const week = Number(object.metadata.labels?.[LABEL.week]);
      const namespace = object.metadata.namespace ?? (object.kind === 'Namespace' ? object.metadata.name : undefined);
      if (file === undefined || namespace === undefined || !Number.isInteger(week)) continue;
      const identity: WeekIdentity = { file, week, namespace };
      if (!this.weeks.has(file)) this.weeks.set(file, identity);
      if (object.kind !== 'Deployment') continue;
      let entry: unknown;
      try {
        entry = JSON.parse(annotations[ANNOTATION.entry] ?? '');
      } catch {
        continue;
      }
      if (!isEntry(entry)) continue;
      const image = (object['spec'] as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined)
        ?.template?.spec?.containers?.[0]?.image;
      const digest = image?.includes('@') ? image.slice(image.indexOf('@') + 1) : undefined;
      this.lastGood.set(studentKey(namespace, entry.githubUsername), { week: identity, entry, digest });
    }
  }

  toJSON(): unknown {
    const students = [...this.students.values()].sort(
      (a, b) => a.namespace.localeCompare(b.namespace) || a.githubUsername.localeCompare(b.githubUsername),
    );
    return { reconcile: this.reconcile, files: [...this.files.values()], students };
  }
}
