/**
 * Defence in depth: whatever the renderer produced, a target wrapped here reads, writes
 * and deletes nothing outside the course's namespaces, and nothing of a kind classops
 * does not manage.
 */
import { isManagedKind } from '../render/kinds.js';
import type { KubeObject } from '../render/objects.js';
import { describeRef, namespaceOfRef, refOf, type ObjectRef, type Target } from './target.js';

export class OutsideCourseError extends Error {
  override readonly name = 'OutsideCourseError';
}

/**
 * `onOutside` hears of every listed object the guard hides (another course's, or this
 * course's left in namespaces it no longer has), each time a listing is read.
 */
export function guardTarget(
  target: Target,
  isCourseNamespace: (namespace: string) => boolean,
  onOutside: (objects: readonly KubeObject[]) => void = () => undefined,
): Target {
  const allowed = (ref: ObjectRef) => isManagedKind(ref.apiVersion, ref.kind) && isCourseNamespace(namespaceOfRef(ref));
  const inCourse = (objects: readonly KubeObject[]) => {
    const inside: KubeObject[] = [];
    const outside: KubeObject[] = [];
    for (const o of objects) (allowed(refOf(o)) ? inside : outside).push(o);
    onOutside(outside);
    return inside;
  };
  const check = (ref: ObjectRef) => {
    if (!allowed(ref))
      throw new OutsideCourseError(
        `refusing to touch ${describeRef(ref)}: not a kind classops manages in one of the course's namespaces`,
      );
  };
  return {
    description: target.description,
    listManaged: async () => inCourse(await target.listManaged()),
    listCached: () => {
      const cached = target.listCached?.();
      return cached === undefined ? undefined : inCourse(cached);
    },
    writtenAsIs: (object) => target.writtenAsIs?.(object) ?? false,
    needsRewrite: (object) => target.needsRewrite?.(object) ?? false,
    exact: target.exact,
    apply: async (object) => {
      check(refOf(object));
      await target.apply(object);
    },
    remove: async (ref) => {
      check(ref);
      await target.remove(ref);
    },
    health: () => target.health(),
    finishPass: async (upToDate) => target.finishPass?.(upToDate),
    event: (ref, type, reason, message) => target.event(ref, type, reason, message),
  };
}
