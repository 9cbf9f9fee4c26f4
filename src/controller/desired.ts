/**
 * What should run, decided per student from the validated rosters, the image verdicts and
 * the last-known-good state. Pure. The rules:
 * - a file that is not complete changes nothing in its week (its last-known-good stays);
 * - an entry with errors (the student's image faults included) is not deployed, but a
 *   student who was running keeps their last-known-good version;
 * - a transient registry verdict keeps the last-known-good image, and never blocks a new student.
 */
import type { ClassopsConfig } from '../config.js';
import type { RosterReport } from '../roster/model.js';
import type { KubeObject } from '../render/objects.js';
import { renderStudents, weekOf, type RenderedWeek, type StudentToRender, type WeekIdentity } from '../render/week.js';
import { isTransient, type Verdict } from '../registry/verdict.js';
import { studentKey, type LastGood, type StudentStatus } from './state.js';

export interface DesiredState {
  readonly weeks: readonly RenderedWeek[];
  readonly objects: readonly KubeObject[];
  readonly protectedFiles: ReadonlySet<string>;
  /** What each student gets and why; health is filled in after applying. */
  readonly students: readonly StudentStatus[];
  /** Entries rendered fresh (not last-known-good), to record as the new last-known-good once applied. */
  readonly fresh: ReadonlyMap<string, LastGood>;
}

interface Inputs {
  readonly reports: readonly RosterReport[];
  readonly verdicts: ReadonlyMap<string, Verdict>;
  readonly lastGood: ReadonlyMap<string, LastGood>;
  readonly weeks: ReadonlyMap<string, WeekIdentity>;
  readonly config: ClassopsConfig;
  readonly revision: string;
}

export function desiredState(inputs: Inputs): DesiredState {
  const { config, verdicts, lastGood } = inputs;
  const weeks: RenderedWeek[] = [];
  const protectedFiles = new Set<string>();
  const students: StudentStatus[] = [];
  const fresh = new Map<string, LastGood>();

  const status = (identity: WeekIdentity, login: string, s: Partial<StudentStatus>): StudentStatus => ({
    namespace: identity.namespace,
    week: identity.week,
    file: identity.file,
    githubUsername: login,
    name: undefined,
    deployment: 'absent',
    reason: undefined,
    image: undefined,
    verdict: undefined,
    findings: [],
    health: undefined,
    service: undefined,
    studentEndpoint: undefined,
    ...s,
  });
  const keepAll = (identity: WeekIdentity, reason: string): StudentToRender[] =>
    [...lastGood.values()]
      .filter((g) => g.week.file === identity.file && g.week.namespace === identity.namespace)
      .map((g) => {
        students.push(
          status(identity, g.entry.githubUsername, {
            name: g.entry.name,
            deployment: 'kept',
            reason,
            image: g.entry.containerImage,
          }),
        );
        return { entry: g.entry, digest: g.digest, line: 1, index: undefined };
      });

  for (const report of inputs.reports) {
    const identity = weekOf(report, config);
    if ('code' in identity) {
      protectedFiles.add(report.file);
      const previous = inputs.weeks.get(report.file);
      if (previous !== undefined)
        weeks.push(renderStudents(previous, keepAll(previous, 'the roster file has errors'), config, inputs.revision));
      continue;
    }
    const toRender: StudentToRender[] = [];
    const seen = new Set<string>();
    for (const result of report.entries) {
      const login = result.githubUsername;
      if (login === undefined) continue;
      const key = studentKey(identity.namespace, login);
      if (seen.has(key)) continue; // duplicates are errors on both entries; last-known-good decides below
      seen.add(key);
      const findings = report.findings.filter((f) => f.entryIndex === result.index && f.severity !== 'note');
      const previous = lastGood.get(key);
      const entry = result.entry;
      const verdict = entry === undefined ? undefined : verdicts.get(entry.containerImage);
      const base = { findings, verdict: verdict?.kind };
      if (entry !== undefined && (verdict === undefined || !isTransient(verdict) || previous === undefined)) {
        const digest = verdict?.kind === 'pullable' ? verdict.digest : undefined;
        toRender.push({ entry, digest, line: result.line, index: result.index });
        fresh.set(key, { week: identity, entry, digest });
        students.push(
          status(identity, entry.githubUsername, {
            ...base,
            name: entry.name,
            deployment: 'deployed',
            image: entry.containerImage,
          }),
        );
      } else if (previous !== undefined) {
        toRender.push({ entry: previous.entry, digest: previous.digest, line: result.line, index: result.index });
        const reason =
          entry !== undefined
            ? `the registry could not confirm the new image (${verdict?.kind}); keeping the last-known-good version`
            : 'the entry has errors; keeping the last-known-good version';
        students.push(
          status(identity, previous.entry.githubUsername, {
            ...base,
            name: previous.entry.name,
            deployment: 'kept',
            reason,
            image: previous.entry.containerImage,
          }),
        );
      } else {
        students.push(
          status(identity, login, {
            ...base,
            name:
              typeof (result.raw as Record<string, unknown> | null)?.['name'] === 'string'
                ? String((result.raw as Record<string, unknown>)['name'])
                : undefined,
            reason: 'the entry has errors',
          }),
        );
      }
    }
    weeks.push(renderStudents(identity, toRender, config, inputs.revision));
  }
  const objects = weeks.flatMap((w) => [...w.shared, ...w.students.flatMap((s) => s.objects)]);
  const rendered = new Map(
    weeks.flatMap((w) => w.students.map((r) => [studentKey(w.namespace, r.student), r] as const)),
  );
  const withService = students.map((s) => {
    const r = rendered.get(studentKey(s.namespace, s.githubUsername));
    if (r === undefined)
      return s.deployment === 'absent'
        ? s
        : { ...s, deployment: 'absent' as const, reason: s.reason ?? 'not rendered' };
    return { ...s, image: r.image, service: r.objects[1]?.metadata.name, studentEndpoint: r.entry.studentEndpoint };
  });
  return { weeks, objects, protectedFiles, students: withService, fresh };
}
