/**
 * One reconcile: snapshot → the roster pipeline (validate, check images, desired state)
 * → plan → apply and prune → commit to State. Level-triggered and idempotent: it reads
 * everything afresh and never assumes the previous pass finished. A failure before
 * applying changes nothing; a cancelled pass writes nothing more once cancelled.
 */
import type { ClassopsConfig } from '../config.js';
import { Limiter } from '../concurrency.js';
import { guardTarget } from '../cluster/course-guard.js';
import {
  describeRef,
  keyOf,
  namespaceOfRef,
  refOf,
  type ObjectRef,
  type StudentHealth,
  type Target,
} from '../cluster/target.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { studentKey, type HeldRemovals, type LastGood } from '../pipeline/desired.js';
import { interpretRosters, type ImageVerifier, type Interpretation } from '../pipeline/interpret.js';
import { courseNamespacesOf } from '../pipeline/weeks.js';
import { kindOrder } from '../render/kinds.js';
import { LABEL } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import type { QuotaShortfall } from '../render/quota-room.js';
import type { Source } from '../source/index.js';
import { planChanges, type Plan } from './plan.js';
import { lastGoodFromLive, type FileStatus, type PassResult, type State, type StudentStatus } from './state.js';

export type { ImageVerifier } from '../pipeline/interpret.js';

/** How many writes are in flight at once: enough to hide round trips, few enough not to flood the API server. */
const WRITE_CONCURRENCY = 8;

export interface ReconcilerOptions {
  readonly config: ClassopsConfig;
  readonly source: Source;
  readonly target: Target;
  readonly images: ImageVerifier | undefined;
  readonly state: State;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly allowMassPrune: boolean;
}

export interface ReconcileOutcome {
  readonly revision: string;
  readonly result: PassResult;
  readonly plan: Plan;
  readonly writes: number;
  /** Writes that succeeded, by what they did: the plan's counts less what failed. */
  readonly done: Readonly<Record<'created' | 'updated' | 'pruned', number>>;
  readonly errors: readonly string[];
  /** Roster files kept at their last-known-good because they are not complete. */
  readonly heldBack: readonly FileStatus[];
  /** Weeks that removed no one because an entry in their roster could be anyone's. */
  readonly heldRemovals: readonly HeldRemovals[];
  readonly leftBehind: readonly ObjectRef[];
}

export interface PlannedPass {
  readonly revision: string;
  readonly interpretation: Interpretation;
  readonly plan: Plan;
  readonly live: readonly KubeObject[];
  readonly lastGood: ReadonlyMap<string, LastGood>;
  readonly target: Target;
  /** Weeks whose removals wait, with every student kept because of it. */
  readonly held: readonly HeldRemovals[];
  /** This course's objects outside its namespaces (see leftBehindText). */
  readonly leftBehind: readonly ObjectRef[];
}

/** Held weeks that keep someone: their last-known-good students, and those whose Deployment was left as found. */
function heldWithFound(held: readonly HeldRemovals[], plan: Plan): HeldRemovals[] {
  return held
    .map((h) => {
      const found = plan.leftAsFound.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === h.namespace);
      const logins = found.flatMap((o) => o.metadata.labels?.[LABEL.student] ?? []);
      // A last-known-good student is rendered, so never left as found: no one is named twice.
      return { ...h, students: [...h.students, ...logins] };
    })
    .filter((h) => h.students.length > 0);
}

/** Resolves as the promise does, or rejects as soon as the pass is cancelled. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('reconcile cancelled'));
    signal.addEventListener('abort', onAbort);
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Whether the pass was cancelled, asked before each write. A signal (SIGTERM) arrives as a
 * task of the event loop, which a target that writes without waiting (the folder) would
 * never let run: the loop gets a turn first.
 */
async function aborted(signal: AbortSignal | undefined): Promise<boolean> {
  if (signal === undefined) return false;
  await new Promise<void>((resolve) => setImmediate(resolve));
  return signal.aborted;
}

const nothingToDo = (plan: Plan) =>
  plan.create.length === 0 && plan.update.length === 0 && plan.prune.length === 0 && plan.refused.length === 0;

/** Why a student who is not rendered still runs. */
const LEFT_AS_FOUND = 'what runs of theirs is left as it is';

/** Last-known-good from what is applied, as a process's first pass starts from it. */
function readBack(live: readonly KubeObject[], { config, log }: ReconcilerOptions): ReadonlyMap<string, LastGood> {
  const { lastGood, refused } = lastGoodFromLive(live, courseNamespacesOf(config).weekMayLiveIn);
  for (const { object, problem } of refused)
    log.warn(
      `not trusting the entry recorded on ${object} as last-known-good: ${problem} (edited by hand?). The student's roster entry decides; while it has errors, ${LEFT_AS_FOUND}`,
    );
  return lastGood;
}

/** Reads the source and the target and decides what to do; touches neither, nor State (what --dry-run shows). */
export async function computePlan(options: ReconcilerOptions, signal?: AbortSignal): Promise<PlannedPass> {
  const { config, source, state } = options;
  let outside: readonly KubeObject[] = [];
  const target = guardTarget(options.target, courseNamespacesOf(config).isCourseNamespace, (o) => (outside = o));
  const snapshot = await unlessAborted(source.snapshot(), signal);
  // The watch's copy serves only once a pass has run (last-known-good comes from State, not from it).
  const cached = state.lastGood === undefined ? undefined : target.listCached?.();
  let live = cached ?? (await unlessAborted(target.listManaged(), signal));
  const lastGood = state.lastGood ?? readBack(live, options);
  const interpretation = await unlessAborted(
    interpretRosters(
      { files: snapshot.files, unreadable: snapshot.problems, config, images: options.images },
      { revision: snapshot.revision, lastGood },
    ),
    signal,
  );
  const desired = interpretation.desired!;
  const planFor = (objects: readonly KubeObject[]) =>
    planChanges(desired.objects, objects, {
      protection: interpretation.protection,
      maxPruneFraction: config.cluster.maxPruneFraction,
      allowMassPrune: options.allowMassPrune,
      writtenAsIs: (live) => target.writtenAsIs?.(live) === true,
      needsRewrite: (live) => target.needsRewrite?.(live) === true,
      exact: target.exact === true,
      leftAsFound: desired.leftAsFound,
    });
  let plan = planFor(live);
  if (cached !== undefined && !nothingToDo(plan)) {
    // The watch may lag behind the cluster: what to write, prune or refuse is decided on a fresh listing.
    live = await unlessAborted(target.listManaged(), signal);
    plan = planFor(live);
  }
  const held = heldWithFound(desired.held, plan);
  // This course's objects in namespaces it no longer has: left by an earlier namespaceTemplate.
  const leftBehind = outside.filter((o) => o.metadata.labels?.[LABEL.partOf] === config.course).map(refOf);
  return { revision: snapshot.revision, interpretation, plan, live, lastGood, target, held, leftBehind };
}

/** What `run` says of objects this course left in namespaces it no longer has, or undefined when there are none. */
export function leftBehindText(course: string, refs: readonly ObjectRef[]): string | undefined {
  if (refs.length === 0) return undefined;
  const namespaces = [...new Set(refs.map(namespaceOfRef))].sort();
  return `${refs.length} object(s) of course ${course} are in namespaces it no longer has (${namespaces.join(', ')}), left by an earlier namespaceTemplate or allowedNamespaces: classops no longer reads, updates or prunes them, and their routes may still answer. Delete them by hand (their namespaces, when nothing else lives there) once the students run in the new ones.`;
}

/** The `namespace/login` key of the student an object is for, when it is a student's. */
function studentKeyOf(object: KubeObject): string | undefined {
  const student = object.metadata.labels?.[LABEL.student];
  return student === undefined ? undefined : studentKey(object.metadata.namespace ?? '', student);
}

/** Items grouped by kind, groups in apply order. */
function byKind<T>(items: readonly T[], kindOf: (item: T) => string): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const order = kindOrder(kindOf(item));
    groups.set(order, [...(groups.get(order) ?? []), item]);
  }
  return [...groups].sort(([a], [b]) => a - b).map(([, group]) => group);
}

async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  const limiter = new Limiter(WRITE_CONCURRENCY);
  await Promise.all(items.map((item) => limiter.run(() => task(item))));
}

export async function reconcile(options: ReconcilerOptions, signal?: AbortSignal): Promise<ReconcileOutcome> {
  const started = performance.now();
  try {
    return await reconcilePass(options, started, signal);
  } catch (error) {
    options.state.recordFailure(error as Error, new Date());
    throw error;
  }
}

async function reconcilePass(
  options: ReconcilerOptions,
  started: number,
  signal?: AbortSignal,
): Promise<ReconcileOutcome> {
  const { state, metrics, log } = options;
  const { revision, interpretation, plan, live, lastGood, target, held, leftBehind } = await computePlan(
    options,
    signal,
  );
  const behind = leftBehindText(options.config.course, leftBehind);
  if (behind !== undefined) log.warn(behind);
  const desired = interpretation.desired!;
  for (const { message } of desired.overQuota) log.warn(message);
  const errors: string[] = [];
  // Students whose objects were not applied (withheld by the guard, or failed): not a last-known-good.
  const failed = new Set(plan.withheld.flatMap((o) => studentKeyOf(o) ?? []));
  const done = { created: 0, updated: 0, pruned: 0 };

  // Objects of one kind go out together, a few at a time; kinds in order, so a Namespace
  // exists before what lives in it, and pruning removes routes before what they point to.
  // Nothing is started once the pass is cancelled (SIGTERM, lost lease).
  const applyOne = async (object: KubeObject, action: 'created' | 'updated') => {
    if (await aborted(signal)) return;
    try {
      await target.apply(object);
      done[action] += 1;
      metrics.applyOperations.inc({ kind: object.kind, action });
      log.info(`${action} ${describeRef(refOf(object))}`, { revision });
      if (object.kind === 'Deployment' && !signal?.aborted)
        await target.event(
          refOf(object),
          'Normal',
          action === 'created' ? 'Created' : 'Updated',
          `classops applied revision ${revision}`,
        );
    } catch (error) {
      metrics.applyOperations.inc({ kind: object.kind, action: 'failed' });
      errors.push((error as Error).message);
      log.error(`could not apply ${describeRef(refOf(object))}`, { error: (error as Error).message });
      const key = studentKeyOf(object);
      if (key !== undefined) failed.add(key);
    }
  };
  const pruneOne = async (ref: ObjectRef) => {
    if (await aborted(signal)) return;
    try {
      await target.remove(ref);
      done.pruned += 1;
      metrics.applyOperations.inc({ kind: ref.kind, action: 'pruned' });
      log.info(`pruned ${describeRef(ref)}`, { revision });
    } catch (error) {
      errors.push((error as Error).message);
      log.error(`could not prune ${describeRef(ref)}`, { error: (error as Error).message });
    }
  };
  const changes = [
    ...plan.create.map((o) => ({ o, action: 'created' as const })),
    ...plan.update.map((o) => ({ o, action: 'updated' as const })),
  ];
  for (const group of byKind(changes, (c) => c.o.kind)) await inParallel(group, (c) => applyOne(c.o, c.action));
  for (const object of plan.unchanged) metrics.applyOperations.inc({ kind: object.kind, action: 'unchanged' });
  for (const group of byKind(plan.prune, (r) => r.kind).reverse()) await inParallel(group, pruneOne);
  for (const h of held)
    log.warn('removals held back', { namespace: h.namespace, file: h.file, lines: h.lines, kept: h.students });
  for (const object of plan.withheld) metrics.applyOperations.inc({ kind: object.kind, action: 'refused' });
  for (const refusal of plan.refused) {
    for (const ref of refusal.objects) metrics.applyOperations.inc({ kind: ref.kind, action: 'refused' });
    log.warn('prune refused', { namespace: refusal.namespace, reason: refusal.reason });
    const anchor = refusal.objects.find((r) => r.kind === 'Deployment') ?? refusal.objects[0];
    if (anchor !== undefined && !signal?.aborted) await target.event(anchor, 'Warning', 'PruneRefused', refusal.reason);
  }
  try {
    await target.finishPass?.(plan.unchangedLive);
  } catch (error) {
    // What the target keeps for itself (the folder's index) only speeds up later passes:
    // the writes are done, and the pass neither failed nor changed nothing.
    log.warn('could not finish the pass', { error: (error as Error).message });
  }
  signal?.throwIfAborted();

  // Last-known-good: what was just applied (or already matched) becomes the fallback; pruned students leave it.
  const nextGood = new Map(lastGood);
  for (const [key, good] of desired.fresh) if (!failed.has(key)) nextGood.set(key, good);
  const pruned = new Set(plan.prune.map(keyOf));
  for (const gone of live) {
    const key = studentKeyOf(gone);
    if (gone.kind === 'Deployment' && key !== undefined && pruned.has(keyOf(refOf(gone)))) nextGood.delete(key);
  }

  // A student not rendered whose Deployment stays (DesiredState.leftAsFound) runs on as found.
  const running = new Set(
    live.flatMap((o) => (o.kind === 'Deployment' && !pruned.has(keyOf(refOf(o))) ? (studentKeyOf(o) ?? []) : [])),
  );
  const health = await target.health().catch(() => new Map<string, StudentHealth>());
  const students: StudentStatus[] = desired.students.map((s) => {
    const key = studentKey(s.namespace, s.githubUsername);
    const found = s.deployment === 'absent' && running.has(key);
    return {
      ...s,
      ...(found ? { deployment: 'kept' as const, reason: `${s.reason ?? 'not rendered'}; ${LEFT_AS_FOUND}` } : {}),
      health: health.get(key),
    };
  });
  const files: FileStatus[] = interpretation.reports.map((r) => ({
    file: r.file,
    complete: r.complete,
    week: r.metadata.week,
    entries: r.entries.length,
    validEntries: r.entries.filter((e) => e.entry !== undefined).length,
    findings: r.findings,
  }));
  const result = errors.length > 0 ? 'partial' : plan.refused.length > 0 ? 'refused' : 'success';
  const writes = done.created + done.updated + done.pruned;
  state.commit({
    revision,
    result,
    lastGood: nextGood,
    files,
    students,
    errors,
    writes,
    refusedPrunes: plan.refused.map((r) => r.reason),
    durationSeconds: (performance.now() - started) / 1000,
    finishedAt: new Date(),
  });
  publishMetrics(options, revision, held, desired.overQuota);
  const heldBack = files.filter((f) => !f.complete);
  return { revision, result, plan, writes, done, errors, heldBack, heldRemovals: held, leftBehind };
}

/** State as gauges: entries per week, complete files, students by outcome and readiness. */
function publishMetrics(
  options: ReconcilerOptions,
  revision: string,
  held: readonly HeldRemovals[],
  overQuota: readonly QuotaShortfall[],
): void {
  const { state, metrics } = options;
  metrics.rosterEntries.reset();
  metrics.rosterFileComplete.reset();
  metrics.removalsHeld.reset();
  metrics.weekOverQuota.reset();
  for (const { namespace } of overQuota) metrics.weekOverQuota.set({ namespace }, 1);
  for (const file of state.files.values()) {
    metrics.rosterFileComplete.set({ file: file.file }, file.complete ? 1 : 0);
    const kept = held.find((h) => h.file === file.file)?.students.length ?? 0;
    metrics.removalsHeld.set({ file: file.file }, kept);
    const week = String(file.week ?? 'unknown');
    metrics.rosterEntries.inc({ week, validity: 'valid' }, file.validEntries);
    metrics.rosterEntries.inc({ week, validity: 'invalid' }, file.entries - file.validEntries);
  }
  metrics.studentsReady.reset();
  metrics.studentsDeployed.reset();
  metrics.studentReady.reset();
  for (const s of state.students.values()) {
    const week = String(s.week).padStart(2, '0');
    metrics.studentsDeployed.inc({ week, deployment: s.deployment });
    if (s.deployment === 'absent') continue;
    const ready = s.health?.phase === 'Ready';
    metrics.studentsReady.inc({ week }, ready ? 1 : 0);
    metrics.studentReady.set(
      {
        week,
        student: s.githubUsername.toLowerCase(),
        reason: ready ? '' : (s.health?.reason ?? s.health?.phase ?? 'unknown'),
      },
      ready ? 1 : 0,
    );
  }
  metrics.revision.reset();
  metrics.revision.set({ revision, source: options.source.description }, 1);
}
