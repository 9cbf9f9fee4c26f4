/**
 * Targets from the controller's State, for the gallery that `classops run` serves. Reads
 * only the fields below, through this narrow view; never writes anything of State's.
 */
import type { StudentStatus } from '../controller/state.js';
import { serviceUrl, targetsFrom, type GalleryTarget, type TargetSource } from './targets.js';

export type StudentView = Pick<
  StudentStatus,
  'namespace' | 'week' | 'githubUsername' | 'name' | 'deployment' | 'reason' | 'health' | 'service' | 'studentEndpoint'
>;

/** What the gallery may see of State: the students, read-only. */
export interface StudentsView {
  readonly students: ReadonlyMap<string, StudentView>;
}

export function targetFromStudent(s: StudentView): GalleryTarget {
  const base = {
    key: `${s.namespace}/${s.githubUsername.toLowerCase()}`,
    githubUsername: s.githubUsername,
    name: s.name,
    week: s.week,
  };
  if (s.deployment === 'absent')
    return { ...base, url: undefined, known: { status: 'not-deployed', reason: s.reason ?? 'not deployed' } };
  // The embedded default writes manifests to a folder: nothing runs the app anywhere.
  if (s.health?.phase === 'Rendered')
    return {
      ...base,
      url: undefined,
      known: { status: 'not-deployed', reason: 'rendered to manifests only: no cluster runs this app' },
    };
  if (s.service === undefined)
    return { ...base, url: undefined, known: { status: 'not-deployed', reason: s.reason ?? 'no Service yet' } };
  return { ...base, url: serviceUrl(s.service, s.namespace, s.studentEndpoint ?? '/student'), known: undefined };
}

export function stateTargets(state: StudentsView): TargetSource {
  return targetsFrom('the controller state', () => [...state.students.values()].map(targetFromStudent));
}
