/**
 * What a reconcile will do: desired objects against live ones. Pure. An object is
 * written only when it is missing or differs (its spec hash, or a field someone else
 * changed). An object no longer desired is pruned only when classops made it (its
 * source-file annotation), no broken roster could own its namespace, it is not a
 * Namespace, and the guard does not stop a mass deletion. A week the guard stops is
 * suspect (a roster cut short looks so), so its running students are left as they are.
 */
import { describeRef, keyOf, refOf, type ObjectRef } from '../cluster/target.js';
import type { Protection } from '../pipeline/weeks.js';
import { kindOrder } from '../render/kinds.js';
import { ANNOTATION, LABEL } from '../render/names.js';
import { latestRouteName, type KubeObject } from '../render/objects.js';
import { studentKey, type LeftAsFound } from '../pipeline/desired.js';

export interface RefusedPrune {
  readonly namespace: string;
  readonly objects: readonly ObjectRef[];
  readonly reason: string;
}

export interface Plan {
  readonly create: readonly KubeObject[];
  readonly update: readonly KubeObject[];
  readonly unchanged: readonly KubeObject[];
  /** The live objects found up to date: `unchanged` as listed. */
  readonly unchangedLive: readonly KubeObject[];
  readonly prune: readonly ObjectRef[];
  readonly refused: readonly RefusedPrune[];
  /** Updates not made: their week's prunes were refused by the guard. */
  readonly withheld: readonly KubeObject[];
  /** Live objects no longer desired and not pruned: their students are left as found (PlanOptions.leftAsFound). */
  readonly leftAsFound: readonly KubeObject[];
}

export interface PlanOptions {
  readonly protection: Protection;
  readonly maxPruneFraction: number;
  readonly allowMassPrune: boolean;
  /** The target's word that a live object is exactly what classops wrote (see Target.writtenAsIs). */
  readonly writtenAsIs?: ((live: KubeObject) => boolean) | undefined;
  /** The target's word that a live object must be written again, whatever its fields say (Target.needsRewrite). */
  readonly needsRewrite?: ((live: KubeObject) => boolean) | undefined;
  /** The target adds nothing to what it is given (Target.exact): live must equal desired, field for field. */
  readonly exact?: boolean | undefined;
  /**
   * Students whose objects are not pruned (DesiredState.leftAsFound): their entry has errors,
   * or their week's removals are held. The route of their plain path goes when another week of
   * theirs now has it, whatever its kind, as one path has one route.
   */
  readonly leftAsFound?: LeftAsFound | undefined;
}

/** How every refusal of the guard ends. */
const LEFT_RUNNING =
  ' Nothing was deleted, and its running students were left as they are; if this is intended, run once with --allow-mass-prune.';

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every field classops sets has the same value live. An API server may add defaults and
 * drop empty collections; with `strict` (a folder, which does neither) an empty map or
 * list must be there too.
 */
function containedIn(desired: unknown, live: unknown, strict: boolean): boolean {
  // Plain loops: a no-op pass compares every field of thousands of objects.
  if (isMap(desired)) {
    if (!isMap(live)) return !strict && Object.keys(desired).length === 0 && live === undefined;
    for (const k of Object.keys(desired)) {
      const v = desired[k];
      if (v !== undefined && !containedIn(v, live[k], strict)) return false;
    }
    return true;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return !strict && desired.length === 0 && live === undefined;
    if (desired.length !== live.length) return false;
    for (let i = 0; i < desired.length; i++) if (!containedIn(desired[i], live[i], strict)) return false;
    return true;
  }
  return desired === live;
}

/**
 * Live objects found up to date, with the spec hash of the object they matched. The watch's
 * copy hands out the same object until the cluster changes it, and the spec hash covers all
 * that is compared, so a no-op pass compares each field once, not on every pass.
 */
const matched = new WeakMap<KubeObject, string>();

/** An object without the annotation that changes on every revision (the spec hash is one of those compared). */
function withoutRevision(object: KubeObject): KubeObject {
  const annotations = { ...object.metadata.annotations };
  delete annotations[ANNOTATION.sourceRevision];
  return { ...object, metadata: { ...object.metadata, annotations } };
}

/** Drift check: every field classops sets is as desired; on an exact target, every field is, and no other. */
function upToDate(desired: KubeObject, live: KubeObject, options: PlanOptions): boolean {
  if (options.needsRewrite?.(live) === true) return false;
  const specHash = desired.metadata.annotations?.[ANNOTATION.specHash];
  if (specHash !== undefined && matched.get(live) === specHash) return true;
  // What classops wrote from a desired object with this hash is that object, field for field.
  if (specHash !== undefined && options.writtenAsIs?.(live) === true)
    return live.metadata.annotations?.[ANNOTATION.specHash] === specHash;
  const wanted = withoutRevision(desired);
  const exact = options.exact === true;
  const same = containedIn(wanted, live, exact) && (!exact || containedIn(withoutRevision(live), wanted, true));
  if (same && specHash !== undefined) matched.set(live, specHash);
  return same;
}

const student = (o: { metadata: { labels?: Record<string, string> } }) => o.metadata.labels?.[LABEL.student];

export function planChanges(desired: readonly KubeObject[], live: readonly KubeObject[], options: PlanOptions): Plan {
  const liveByKey = new Map(live.map((o) => [keyOf(refOf(o)), o]));
  const desiredKeys = new Set<string>();
  const create: KubeObject[] = [];
  const update: KubeObject[] = [];
  const unchanged: KubeObject[] = [];
  const unchangedLive: KubeObject[] = [];
  for (const object of [...desired].sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind))) {
    const key = keyOf(refOf(object));
    desiredKeys.add(key);
    const current = liveByKey.get(key);
    if (current === undefined) create.push(object);
    else if (upToDate(object, current, options)) {
      unchanged.push(object);
      unchangedLive.push(current);
    } else update.push(object);
  }

  const { protection } = options;
  const namespaceOf = (o: KubeObject) => (o.kind === 'Namespace' ? o.metadata.name : (o.metadata.namespace ?? ''));
  const prunable = (o: KubeObject) =>
    o.metadata.annotations?.[ANNOTATION.sourceFile] !== undefined &&
    !protection.namespaces.has(namespaceOf(o)) &&
    (!protection.unknown || protection.owned.has(namespaceOf(o)));
  const desiredNames = new Set(desired.map((o) => o.metadata.name));
  const leftAsFound = (o: KubeObject) => {
    const login = student(o);
    const left = options.leftAsFound;
    if (login === undefined || left === undefined) return false;
    const namespace = namespaceOf(o);
    if (!left.namespaces.has(namespace) && !left.students.has(studentKey(namespace, login))) return false;
    const latest = latestRouteName({ githubUsername: login });
    return !(o.metadata.name === latest && desiredNames.has(latest));
  };
  const gone = live.filter((o) => !desiredKeys.has(keyOf(refOf(o))) && prunable(o));
  const kept = new Set(gone.filter(leftAsFound));
  const candidates = gone.filter((o) => !kept.has(o));
  const refused: RefusedPrune[] = [];
  const prune: ObjectRef[] = [];
  const namespaces = candidates.filter((o) => o.kind === 'Namespace');
  for (const ns of namespaces) {
    refused.push({
      namespace: ns.metadata.name,
      objects: [refOf(ns)],
      reason: `${describeRef(refOf(ns))} is no longer in any roster; classops never deletes a namespace (it would take everything in it). Delete it by hand when the week is over.`,
    });
  }
  const byNamespace = new Map<string, KubeObject[]>();
  for (const o of candidates.filter((c) => c.kind !== 'Namespace')) {
    const ns = namespaceOf(o);
    byNamespace.set(ns, [...(byNamespace.get(ns) ?? []), o]);
  }
  // No student left in any roster while several run (an emptied roster folder, a source that
  // lists nothing) is refused even where each week loses only the one it may.
  const deployments = (objects: readonly KubeObject[]) =>
    new Set(objects.filter((o) => o.kind === 'Deployment').map((o) => studentKey(namespaceOf(o), student(o) ?? '')));
  const allRunning = deployments(live);
  const everyone =
    allRunning.size > 1 &&
    deployments(desired).size === 0 &&
    deployments(candidates).size === allRunning.size &&
    !options.allowMassPrune;
  for (const [namespace, objects] of byNamespace) {
    const leaving = new Set(objects.filter((o) => o.kind === 'Deployment').map(student));
    const running = new Set(
      live.filter((o) => o.kind === 'Deployment' && o.metadata.namespace === namespace).map(student),
    );
    const allowed = Math.max(1, Math.floor(options.maxPruneFraction * running.size));
    if (leaving.size > allowed && !options.allowMassPrune) {
      refused.push({
        namespace,
        objects: objects.map(refOf),
        reason: `Pruning would remove ${leaving.size} of ${running.size} students in ${namespace}, more than the guard allows (${allowed}, cluster.maxPruneFraction ${options.maxPruneFraction}).${LEFT_RUNNING}`,
      });
      continue;
    }
    if (everyone && leaving.size > 0) {
      refused.push({
        namespace,
        objects: objects.map(refOf),
        reason: `Pruning would remove every one of the course's ${allRunning.size} running students, ${leaving.size} of them in ${namespace}, and no roster names a student: the roster files look emptied or gone.${LEFT_RUNNING}`,
      });
      continue;
    }
    prune.push(...objects.map(refOf));
  }
  prune.sort((a, b) => kindOrder(b.kind) - kindOrder(a.kind));
  const guarded = new Set(refused.filter((r) => r.objects.some((o) => o.kind !== 'Namespace')).map((r) => r.namespace));
  const withheld = update.filter((o) => guarded.has(namespaceOf(o)));
  const made = update.filter((o) => !guarded.has(namespaceOf(o)));
  return {
    create,
    update: made,
    unchanged,
    unchangedLive,
    prune,
    refused,
    withheld,
    leftAsFound: [...kept],
  };
}
