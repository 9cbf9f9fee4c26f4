/**
 * One reconcile: snapshot → validate each file → check images → render → plan → apply and
 * prune → record state. Level-triggered and idempotent: it reads everything afresh and
 * never assumes the previous pass finished. A failure before applying changes nothing.
 */
import type { ClassopsConfig } from '../config.js';
import { Limiter } from '../concurrency.js';
import { describeRef, kindOrder, refOf, type ObjectRef, type StudentHealth, type Target } from '../cluster/target.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { imagesToCheck, withImageVerdicts } from '../registry/findings.js';
import type { Verdict } from '../registry/verdict.js';
import { validateRoster } from '../roster/validate.js';
import { LABEL } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import type { Source } from '../source/index.js';
import { desiredState } from './desired.js';
import { planChanges, type Plan } from './plan.js';
import { studentKey, type State } from './state.js';

/** How many writes are in flight at once: enough to hide round trips, few enough not to flood the API server. */
const WRITE_CONCURRENCY = 8;

/** Items grouped by kind, groups in apply order (or its reverse, for pruning). */
function byKind<T>(items: readonly T[], kindOf: (item: T) => string, reverse: boolean): T[][] {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const order = kindOrder(kindOf(item));
    groups.set(order, [...(groups.get(order) ?? []), item]);
  }
  return [...groups].sort(([a], [b]) => (reverse ? b - a : a - b)).map(([, group]) => group);
}

async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  const limiter = new Limiter(WRITE_CONCURRENCY);
  await Promise.all(items.map((item) => limiter.run(() => task(item))));
}

export interface ImageVerifier {
  checkAll(images: Iterable<string>): Promise<Map<string, Verdict>>;
}

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
  readonly result: 'success' | 'partial' | 'refused';
  readonly plan: Plan;
  readonly writes: number;
  readonly errors: readonly string[];
}

/** Computes the plan without touching the target (used by --dry-run, and by every reconcile). */
export async function computePlan(
  options: ReconcilerOptions,
): Promise<{ revision: string; plan: Plan; live: KubeObject[]; desired: ReturnType<typeof desiredState> }> {
  const { config, source, target, state } = options;
  const snapshot = await source.snapshot();
  const live = await target.listManaged();
  state.restoreFromLive(live);

  let reports = [...snapshot.files].map(([file, bytes]) => validateRoster(file, bytes, config.policy));
  let verdicts = new Map<string, Verdict>();
  if (options.images !== undefined) {
    verdicts = await options.images.checkAll(reports.flatMap(imagesToCheck));
    reports = reports.map((r) => withImageVerdicts(r, verdicts));
  }
  state.files = new Map(
    reports.map((r) => [
      r.file,
      {
        file: r.file,
        complete: r.complete,
        week: r.metadata.week,
        entries: r.entries.length,
        validEntries: r.entries.filter((e) => e.entry !== undefined).length,
        findings: r.findings,
      },
    ]),
  );

  const desired = desiredState({
    reports,
    verdicts,
    lastGood: state.lastGood,
    weeks: state.weeks,
    config,
    revision: snapshot.revision,
  });
  const plan = planChanges(desired.objects, live, {
    protectedFiles: desired.protectedFiles,
    maxPruneFraction: config.cluster.maxPruneFraction,
    allowMassPrune: options.allowMassPrune,
  });
  return { revision: snapshot.revision, plan, live, desired };
}

export async function reconcile(options: ReconcilerOptions): Promise<ReconcileOutcome> {
  const { target, state, metrics, log } = options;
  const { revision, plan, live, desired } = await computePlan(options);
  const errors: string[] = [];
  const failed = new Set<string>();
  let writes = 0;

  // Objects of one kind go out together, a few at a time; kinds in order, so a Namespace
  // exists before what lives in it, and pruning removes routes before what they point to.
  const applyOne = async (object: KubeObject, action: 'created' | 'updated') => {
    try {
      await target.apply(object);
      writes += 1;
      metrics.applyOperations.inc({ kind: object.kind, action });
      log.info(`${action} ${describeRef(refOf(object))}`, { revision });
      if (object.kind === 'Deployment')
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
      const student = object.metadata.labels?.[LABEL.student];
      if (student !== undefined) failed.add(studentKey(object.metadata.namespace ?? '', student));
    }
  };
  const pruneOne = async (ref: ObjectRef) => {
    try {
      await target.remove(ref);
      writes += 1;
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
  for (const group of byKind(changes, (c) => c.o.kind, false)) await inParallel(group, (c) => applyOne(c.o, c.action));
  for (const object of plan.unchanged) metrics.applyOperations.inc({ kind: object.kind, action: 'unchanged' });
  for (const group of byKind(plan.prune, (r) => r.kind, true)) await inParallel(group, pruneOne);
  for (const refusal of plan.refused) {
    for (const ref of refusal.objects) metrics.applyOperations.inc({ kind: ref.kind, action: 'refused' });
    log.warn('prune refused', { namespace: refusal.namespace, reason: refusal.reason });
    const anchor = refusal.objects.find((r) => r.kind === 'Deployment') ?? refusal.objects[0];
    if (anchor !== undefined) await target.event(anchor, 'Warning', 'PruneRefused', refusal.reason);
  }

  // Last-known-good: what was just applied (or already matched) becomes the fallback.
  for (const [key, good] of desired.fresh) if (!failed.has(key)) state.lastGood.set(key, good);
  for (const week of desired.weeks)
    state.weeks.set(week.file, { file: week.file, week: week.week, namespace: week.namespace });
  for (const ref of plan.prune.filter((r) => r.kind === 'Deployment')) {
    const gone = live.find(
      (o) => o.kind === 'Deployment' && o.metadata.namespace === ref.namespace && o.metadata.name === ref.name,
    );
    const student = gone?.metadata.labels?.[LABEL.student];
    if (student !== undefined) state.lastGood.delete(studentKey(ref.namespace ?? '', student));
  }

  const result = errors.length > 0 ? 'partial' : plan.refused.length > 0 ? 'refused' : 'success';
  await recordStatus(options, desired.students, revision);
  return { revision, result, plan, writes, errors };
}

/** Fills student health from the target and publishes State to metrics. */
async function recordStatus(
  options: ReconcilerOptions,
  students: ReturnType<typeof desiredState>['students'],
  revision: string,
): Promise<void> {
  const { target, state, metrics } = options;
  const health = await target.health().catch(() => new Map<string, StudentHealth>());
  state.students = new Map(
    students.map((s) => [
      studentKey(s.namespace, s.githubUsername),
      { ...s, health: health.get(studentKey(s.namespace, s.githubUsername)) },
    ]),
  );

  metrics.rosterEntries.reset();
  metrics.rosterFileComplete.reset();
  for (const file of state.files.values()) {
    metrics.rosterFileComplete.set({ file: file.file }, file.complete ? 1 : 0);
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
