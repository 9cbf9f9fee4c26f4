/**
 * Which namespace each roster file's week lives in. A namespace comes from
 * `render.namespaceTemplate` or the instructors' `render.allowedNamespaces`, never from
 * anywhere else; two files may not claim one namespace (the file deployed there before keeps
 * it, even while it is broken; else the first by name).
 * What a broken file could own is protected: its objects are never pruned, whatever the
 * file is called now.
 */
import type { ClassopsConfig } from '../config.js';
import { courseNamespaces, isDnsLabel, listedNamespaces, namespaceFromTemplate } from '../render/names.js';
import type { WeekIdentity } from '../render/week.js';
import { addFindings, type Finding, type RosterReport } from '../roster/model.js';
import { weekFromFileName } from '../roster/rules.js';

export interface CourseNamespaces {
  /** Whether classops may read, write or prune anything in this namespace. */
  readonly isCourseNamespace: (namespace: string) => boolean;
  /** Whether an instructor listed it, so any week's roster may name it. */
  readonly isListed: (namespace: string) => boolean;
  readonly templateFor: (week: number) => string;
  /** Whether a week's objects may live in a namespace: its own templated one, or one an instructor listed. */
  readonly weekMayLiveIn: (namespace: string, week: number) => boolean;
}

export function courseNamespacesOf(config: ClassopsConfig): CourseNamespaces {
  const isListed = listedNamespaces(config.render.allowedNamespaces);
  const templateFor = (week: number) => namespaceFromTemplate(config.render.namespaceTemplate, config.course, week);
  const isCourseNamespace = courseNamespaces(
    config.render.namespaceTemplate,
    config.course,
    config.render.allowedNamespaces,
  );
  return {
    isCourseNamespace,
    isListed,
    templateFor,
    weekMayLiveIn: (namespace, week) =>
      (namespace === templateFor(week) && isCourseNamespace(namespace)) || isListed(namespace),
  };
}

/** What a pass may not prune, because a roster that would say otherwise cannot be read. */
export interface Protection {
  /** Namespaces a broken roster could own: nothing in them is pruned. */
  readonly namespaces: ReadonlySet<string>;
  /** A broken roster whose namespace cannot be known: nothing outside `owned` is pruned. */
  readonly unknown: boolean;
  /** Namespaces owned by complete rosters. */
  readonly owned: ReadonlySet<string>;
}

export interface ClaimedWeeks {
  /** The reports with the namespace findings added (a refused file is no longer complete). */
  readonly reports: readonly RosterReport[];
  /** The week of each complete report, by file. */
  readonly identities: ReadonlyMap<string, WeekIdentity>;
  readonly protection: Protection;
}

const fileFinding = (report: RosterReport, line: number, code: string, message: string, hint: string): Finding => ({
  code,
  severity: 'error',
  message,
  hint,
  file: report.file,
  line,
  column: 1,
});

/** The namespace a complete roster's header gives, or why it may not have it. */
function namespaceOf(report: RosterReport, week: number, course: CourseNamespaces): string | Finding {
  const { namespace, namespaceLine } = report.metadata;
  const chosen = namespace ?? course.templateFor(week);
  if (namespace === undefined && !isDnsLabel(chosen))
    return fileFinding(
      report,
      namespaceLine,
      'render-namespace-invalid',
      `The namespace template gives ${JSON.stringify(chosen)}, which is not a valid namespace name.`,
      'Fix render.namespaceTemplate in classops.yaml.',
    );
  // Never another week's namespace.
  if (!course.weekMayLiveIn(chosen, week))
    return fileFinding(
      report,
      namespaceLine,
      'namespace-not-allowed',
      `metadata.namespace ${JSON.stringify(chosen)} is not allowed for week ${week}: classops deploys week ${week} only into ${JSON.stringify(course.templateFor(week))} or a namespace an instructor listed.`,
      'Remove metadata.namespace (the course picks it), or ask an instructor to add it to render.allowedNamespaces.',
    );
  return chosen;
}

/** Namespaces a roster that is not complete might own: from its header, its file name, and what it owned before. */
function candidates(report: RosterReport, course: CourseNamespaces, before: ReadonlySet<string>): string[] {
  const weeks = [report.metadata.week, weekFromFileName(report.file)].filter((w) => w !== undefined);
  const names = [
    ...(report.metadata.namespace !== undefined ? [report.metadata.namespace] : []),
    ...weeks.map(course.templateFor),
    ...before,
  ];
  return names.filter(course.isCourseNamespace);
}

/**
 * Gives each complete roster its week's namespace, refusing namespaces outside the course
 * and a second claim on one namespace. `previous` maps a file to the namespaces its
 * students were last deployed in (last-known-good).
 */
export function claimWeeks(
  reports: readonly RosterReport[],
  config: ClassopsConfig,
  previous: ReadonlyMap<string, ReadonlySet<string>>,
): ClaimedWeeks {
  const course = courseNamespacesOf(config);
  const owners = new Map<string, string>();
  // A broken file keeps the namespaces it was last deployed in until it is repaired, and those
  // of a file gone since that it could be (renamed while broken): another file claiming one
  // meanwhile would take over its running students for good.
  const present = new Set(reports.map((r) => r.file));
  const gone = new Set([...previous].flatMap(([file, namespaces]) => (present.has(file) ? [] : [...namespaces])));
  const held = new Map<string, string>();
  for (const report of reports) {
    if (report.complete && report.metadata.week !== undefined) continue;
    for (const namespace of previous.get(report.file) ?? []) held.set(namespace, report.file);
    for (const namespace of candidates(report, course, new Set()))
      if (gone.has(namespace)) held.set(namespace, report.file);
  }
  const identities = new Map<string, WeekIdentity>();
  // The file that was last deployed into a namespace keeps it; among newcomers, the first
  // by name. So adding a file can never take a running week's namespace from it.
  const incumbent = ({ file, metadata: { week, namespace } }: RosterReport) => {
    const chosen = namespace ?? (week === undefined ? undefined : course.templateFor(week));
    return chosen !== undefined && (previous.get(file)?.has(chosen) ?? false);
  };
  const checked = [...reports]
    .sort((a, b) => Number(incumbent(b)) - Number(incumbent(a)) || (a.file < b.file ? -1 : 1)) // paths are unique
    .map((report) => {
      const week = report.metadata.week;
      if (!report.complete || week === undefined) return report;
      const namespace = namespaceOf(report, week, course);
      if (typeof namespace !== 'string') return addFindings(report, [namespace]);
      const conflict = (message: string, hint: string) =>
        addFindings(report, [fileFinding(report, report.metadata.namespaceLine, 'namespace-conflict', message, hint)]);
      const broken = held.get(namespace);
      if (broken !== undefined)
        return conflict(
          `Namespace ${namespace} holds the week of ${broken}, which cannot be read now; its students keep running there as they last were, and no other file may take the namespace meanwhile.`,
          `Repair ${broken}, or delete it if this file replaces it; otherwise give this file another metadata.week, or remove it.`,
        );
      const owner = owners.get(namespace);
      if (owner !== undefined)
        return conflict(
          `Namespace ${namespace} already holds the week of ${owner}; a namespace holds one roster file. Nothing in it is deployed or removed from this file until one of the two files gives it up.`,
          'Give each week its own file and namespace: remove the copy, or set another metadata.week.',
        );
      owners.set(namespace, report.file);
      identities.set(report.file, { file: report.file, week, namespace });
      return report;
    });

  const namespaces = new Set<string>();
  let unknown = false;
  for (const report of checked) {
    if (report.complete) continue;
    const could = candidates(report, course, previous.get(report.file) ?? new Set());
    if (could.length === 0) unknown = true;
    for (const namespace of could) namespaces.add(namespace);
  }
  const byFile = new Map(checked.map((r) => [r.file, r]));
  return {
    reports: reports.map((r) => byFile.get(r.file)!),
    identities,
    protection: { namespaces, unknown, owned: new Set(owners.keys()) },
  };
}
