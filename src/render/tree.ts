/**
 * Rendered weeks as a tree of files for Argo CD, Flux or kubectl: one folder per
 * namespace with the week's shared objects, one file per student and a kustomization.
 */
import { objectsToYaml, toYaml, yamlDocument } from './serialize.js';
import { studentObjectList, type KubeObject } from './objects.js';
import type { RenderedWeek } from './week.js';

/** A file in every folder classops renders into; its presence allows replacing the folder's contents. */
export const RENDER_MARKER = '.classops-render';
/** How every marker classops render writes begins. */
export const RENDER_MARKER_HEADER = 'Made by classops render; the folder is replaced on every run.\n';

function kustomization(resources: string[]): string {
  return toYaml({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });
}

/** Weeks in namespace order: the stable order of every output. */
const byNamespace = (weeks: readonly RenderedWeek[]) => [...weeks].sort((a, b) => (a.namespace < b.namespace ? -1 : 1));

/** Relative path → file content, in a stable order. */
export function manifestTree(weeks: readonly RenderedWeek[]): Map<string, string> {
  const files = new Map<string, string>();
  const sorted = byNamespace(weeks);
  for (const week of sorted) {
    const studentFiles = week.students.map((s) => `${s.objects.deployment.metadata.name}.yaml`);
    files.set(`${week.namespace}/kustomization.yaml`, kustomization(['week.yaml', ...studentFiles]));
    files.set(`${week.namespace}/week.yaml`, objectsToYaml(week.shared));
    week.students.forEach((s, i) =>
      files.set(`${week.namespace}/${studentFiles[i]!}`, objectsToYaml(studentObjectList(s.objects))),
    );
  }
  files.set('kustomization.yaml', kustomization(sorted.map((w) => w.namespace)));
  return files;
}

/**
 * Every object of every week as YAML documents, each introduced by `---`, one at a time:
 * a writer or a hash takes them as they come, and the whole stream never sits in memory.
 */
export function* manifestDocuments(weeks: readonly RenderedWeek[]): Generator<string> {
  for (const week of byNamespace(weeks)) for (const object of weekObjects(week)) yield yamlDocument(object);
}

/** A week's objects in apply order: shared ones, then each student's. */
export function weekObjects(week: RenderedWeek): KubeObject[] {
  return [...week.shared, ...week.students.flatMap((s) => studentObjectList(s.objects))];
}
