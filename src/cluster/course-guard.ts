/**
 * Defence in depth: whatever the renderer produced, a target wrapped here reads, writes
 * and deletes nothing outside the course's namespaces, and nothing of a kind classops
 * does not manage.
 */
import { isManagedKind } from '../render/kinds.js';
import type { KubeObject } from '../render/objects.js';
import { describeRef, refOf, type ObjectRef, type Target } from './target.js';

export class OutsideCourseError extends Error {
  override readonly name = 'OutsideCourseError';
}

export function guardTarget(target: Target, isCourseNamespace: (namespace: string) => boolean): Target {
  const namespaceOf = (ref: ObjectRef) => (ref.kind === 'Namespace' ? ref.name : (ref.namespace ?? ''));
  const allowed = (ref: ObjectRef) => isManagedKind(ref.apiVersion, ref.kind) && isCourseNamespace(namespaceOf(ref));
  const check = (ref: ObjectRef) => {
    if (!allowed(ref))
      throw new OutsideCourseError(
        `refusing to touch ${describeRef(ref)}: not a kind classops manages in one of the course's namespaces`,
      );
  };
  return {
    description: target.description,
    listManaged: async () => (await target.listManaged()).filter((o: KubeObject) => allowed(refOf(o))),
    listCached: () => target.listCached?.()?.filter((o: KubeObject) => allowed(refOf(o))),
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
