/**
 * The one place that knows each student's last-known-good entry and live status. Only the
 * reconciler writes it, once per pass (`commit`, `recordFailure`); the status API,
 * metrics, gallery and GitHub feedback read it. Last-known-good is rebuilt from what is
 * applied (annotations carry the entry), so a restart changes nothing.
 */
import { textHash } from '../canonical.js';
import { describeRef, refOf, type StudentHealth } from '../cluster/target.js';
import { studentKey, type LastGood, type StudentPlan } from '../pipeline/desired.js';
import type { CourseNamespaces } from '../pipeline/weeks.js';
import { ANNOTATION, LABEL, studentObjectName } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import { parseImageReference, pinImageReference, type ImageReference } from '../roster/image-reference.js';
import type { Finding, StudentEntry } from '../roster/model.js';
import {
  checkEndpoint,
  checkGithubUsername,
  checkName,
  checkPort,
  weekFromFileName,
  type Problem,
} from '../roster/rules.js';
import { quote } from '../unsafe-characters.js';

export type { Deployment, LastGood } from '../pipeline/desired.js';
export { studentKey } from '../pipeline/desired.js';

export interface StudentStatus extends StudentPlan {
  readonly health: StudentHealth | undefined;
}

export interface FileStatus {
  readonly file: string;
  readonly complete: boolean;
  readonly week: number | undefined;
  readonly entries: number;
  readonly validEntries: number;
  readonly findings: readonly Finding[];
}

export type PassResult = 'success' | 'partial' | 'refused';

export interface ReconcileRecord {
  readonly revision: string | undefined;
  readonly result: PassResult | 'failure' | undefined;
  readonly finishedAt: string | undefined;
  readonly lastSuccessAt: string | undefined;
  readonly error: string | undefined;
  readonly writes: number;
  readonly durationSeconds: number | undefined;
  readonly refusedPrunes: readonly string[];
}

/** Everything one finished pass found out, committed to State at once. */
export interface PassRecord {
  readonly revision: string;
  readonly result: PassResult;
  readonly lastGood: ReadonlyMap<string, LastGood>;
  readonly files: readonly FileStatus[];
  readonly students: readonly StudentStatus[];
  readonly errors: readonly string[];
  readonly writes: number;
  readonly refusedPrunes: readonly string[];
  readonly durationSeconds: number;
  readonly finishedAt: Date;
}

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

/** A Deployment whose recorded entry was not read back, and why. */
export interface RefusedReadBack {
  readonly object: string;
  readonly problem: string;
}

/**
 * Why a recorded entry is not one classops could have written on this Deployment, or
 * undefined: it must name the Deployment's student and pass the rules that hold for every
 * course. The course's policy (registries, image owners) is not asked: it may have changed
 * since, and a student kept under the older one stays kept after a restart as without one.
 */
function entryProblem(entry: StudentEntry, student: string | undefined): string | undefined {
  const login = entry.githubUsername;
  if (student?.toLowerCase() !== login.toLowerCase())
    return `github_username ${quote(login)} is not the student the Deployment is for (${quote(student ?? '')})`;
  const fields: Array<[string, string | number, Problem[]]> = [
    ['name', entry.name, checkName(entry.name)],
    ['github_username', login, checkGithubUsername(login)],
    ['student_endpoint', entry.studentEndpoint, checkEndpoint('student_endpoint', entry.studentEndpoint)],
    ['health_endpoint', entry.healthEndpoint, checkEndpoint('health_endpoint', entry.healthEndpoint)],
    ['port', entry.port, checkPort(entry.port)],
  ];
  for (const [field, value, problems] of fields) {
    const error = problems.find((p) => p.severity === 'error');
    const shown = typeof value === 'string' ? quote(value) : String(value);
    if (error !== undefined) return `${field} ${shown}: ${error.message}`;
  }
  return undefined;
}

/** A file named for a week (week-NN.yaml) that is not the Deployment's week: one of the two was edited. */
function fileProblem(file: string, week: number): string | undefined {
  const named = weekFromFileName(file);
  return named === undefined || named === week
    ? undefined
    : `its file ${quote(file)} is week ${named}'s, but the Deployment is labelled week ${week}`;
}

/** The digests registries pin by (OCI: sha256, and sha512 where a registry uses it). */
const DIGEST = /^sha(?:256:[0-9a-f]{64}|512:[0-9a-f]{128})$/;

/**
 * The digest the Deployment pins the entry's image at, when it runs it pinned; undefined when
 * it runs it as written, or another image set by hand (`kubectl set image`), drift the next
 * pass puts back.
 */
function pinnedDigest(entry: StudentEntry, ref: ImageReference, live: string | undefined): string | undefined {
  if (live === entry.containerImage) return ref.digest;
  const digest = live?.slice(live.indexOf('@') + 1);
  // An entry that names a sha256 digest runs that one; else whichever the registry confirmed.
  const ownIsSha256 = ref.digest?.startsWith('sha256:') === true;
  const pinned =
    digest !== undefined &&
    DIGEST.test(digest) &&
    (!ownIsSha256 || ref.digest === digest) &&
    live === pinImageReference(ref, digest);
  return pinned ? digest : undefined;
}

/** Why the Deployment's record is not as classops wrote it (an edit the hash does not cover), or undefined. */
function recordProblem(object: KubeObject, entry: StudentEntry): string | undefined {
  const annotations = object.metadata.annotations ?? {};
  if (annotations[ANNOTATION.entryHash] !== textHash(annotations[ANNOTATION.entry] ?? ''))
    return `its ${ANNOTATION.entry} no longer matches its ${ANNOTATION.entryHash}`;
  if (annotations[ANNOTATION.image] !== entry.containerImage)
    return `its ${ANNOTATION.image} is not the recorded entry's image`;
  if (object.metadata.name !== studentObjectName(entry.githubUsername))
    return `it is not named ${studentObjectName(entry.githubUsername)}, as the recorded student's Deployment is`;
  return undefined;
}

/**
 * Last-known-good read back from applied Deployments: what a restarted controller starts
 * from. A record that is not what classops wrote there is left out and reported.
 */
export function lastGoodFromLive(
  live: readonly KubeObject[],
  weekMayLiveIn: CourseNamespaces['weekMayLiveIn'],
): {
  lastGood: Map<string, LastGood>;
  refused: RefusedReadBack[];
} {
  const lastGood = new Map<string, LastGood>();
  const refused: RefusedReadBack[] = [];
  for (const object of live) {
    if (object.kind !== 'Deployment') continue;
    const annotations = object.metadata.annotations ?? {};
    const file = annotations[ANNOTATION.sourceFile];
    const weekLabel = object.metadata.labels?.[LABEL.week] ?? '';
    const week = Number(weekLabel);
    const namespace = object.metadata.namespace;
    if (file === undefined || namespace === undefined || !/^[0-9]+$/.test(weekLabel) || week < 1) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(annotations[ANNOTATION.entry] ?? '');
    } catch {
      entry = undefined;
    }
    if (!isEntry(entry)) {
      refused.push({ object: describeRef(refOf(object)), problem: `its ${ANNOTATION.entry} is not a roster entry` });
      continue;
    }
    const image = parseImageReference(entry.containerImage);
    const problem =
      entryProblem(entry, object.metadata.labels?.[LABEL.student]) ??
      recordProblem(object, entry) ??
      fileProblem(file, week) ??
      (weekMayLiveIn(namespace, week) ? undefined : `week ${week}'s students do not live in ${namespace}`) ??
      (image.ok ? undefined : `container_image ${quote(entry.containerImage)}: ${image.problem}`);
    if (problem !== undefined) {
      refused.push({ object: describeRef(refOf(object)), problem });
      continue;
    }
    if (!image.ok) continue; // refused above, as the chain's last problem
    const spec = object['spec'] as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined;
    const digest = pinnedDigest(entry, image.reference, spec?.template?.spec?.containers?.[0]?.image);
    lastGood.set(studentKey(namespace, entry.githubUsername), { week: { file, week, namespace }, entry, digest });
  }
  return { lastGood, refused };
}

const sortedStudents = (a: StudentStatus, b: StudentStatus) =>
  a.namespace.localeCompare(b.namespace) || a.githubUsername.localeCompare(b.githubUsername);

export class State {
  /** Undefined until the first pass: then the reconciler reads it back from what is applied. */
  private good: ReadonlyMap<string, LastGood> | undefined;
  private studentMap: ReadonlyMap<string, StudentStatus> = new Map();
  private fileMap: ReadonlyMap<string, FileStatus> = new Map();
  private record: ReconcileRecord = {
    revision: undefined,
    result: undefined,
    finishedAt: undefined,
    lastSuccessAt: undefined,
    error: undefined,
    writes: 0,
    durationSeconds: undefined,
    refusedPrunes: [],
  };

  get lastGood(): ReadonlyMap<string, LastGood> | undefined {
    return this.good;
  }
  get students(): ReadonlyMap<string, StudentStatus> {
    return this.studentMap;
  }
  get files(): ReadonlyMap<string, FileStatus> {
    return this.fileMap;
  }
  get reconcile(): ReconcileRecord {
    return this.record;
  }

  commit(pass: PassRecord): void {
    this.good = new Map(pass.lastGood);
    this.fileMap = new Map(pass.files.map((f) => [f.file, f]));
    this.studentMap = new Map(pass.students.map((s) => [studentKey(s.namespace, s.githubUsername), s]));
    const at = pass.finishedAt.toISOString();
    this.record = {
      revision: pass.revision,
      result: pass.result,
      finishedAt: at,
      lastSuccessAt: pass.result === 'partial' ? this.record.lastSuccessAt : at,
      error: pass.errors[0],
      writes: pass.writes,
      durationSeconds: pass.durationSeconds,
      refusedPrunes: pass.refusedPrunes,
    };
  }

  /** A pass that could not run: nothing was changed, so only the record moves. */
  recordFailure(error: Error, at: Date): void {
    this.record = { ...this.record, result: 'failure', finishedAt: at.toISOString(), error: error.message, writes: 0 };
  }

  toJSON(): unknown {
    const students = [...this.studentMap.values()].sort(sortedStudents);
    return { reconcile: this.record, files: [...this.fileMap.values()], students };
  }
}
