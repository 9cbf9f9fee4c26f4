/** One validated roster file in, the week's objects out: what `render` writes and the controller applies. */
import type { ClassopsConfig } from '../config.js';
import type { Finding, RosterReport, StudentEntry } from '../roster/model.js';
import { isDnsLabel, namespaceFromTemplate, studentObjectName } from './names.js';
import {
  deployedImage,
  renderStudent,
  renderWeekObjects,
  weekContext,
  type KubeObject,
  type StudentObjects,
} from './objects.js';

export interface RenderedStudent {
  /** Lowercase GitHub login: the student's identity across revisions. */
  readonly student: string;
  readonly entry: StudentEntry;
  readonly image: string;
  readonly objects: StudentObjects;
}

export interface RenderedWeek {
  readonly file: string;
  readonly week: number;
  readonly namespace: string;
  readonly shared: readonly KubeObject[];
  readonly students: readonly RenderedStudent[];
  /** Render-time problems (invalid derived names, name collisions), in the roster's finding shape. */
  readonly findings: readonly Finding[];
}

export interface RenderInputs {
  readonly revision: string;
  /** Registry digests by image reference as written, from the image checks. */
  readonly digests?: ReadonlyMap<string, string>;
}

/** One entry to render, with the digest to pin and where it came from (for findings). */
export interface StudentToRender {
  readonly entry: StudentEntry;
  readonly digest: string | undefined;
  readonly line: number;
  readonly index: number | undefined;
  /** The student's newest week: this week also routes the plain `<prefix>/<login>` path. */
  readonly latest: boolean;
}

export interface WeekIdentity {
  readonly file: string;
  readonly week: number;
  readonly namespace: string;
}

/** The namespace a roster's week lives in, or a finding saying why there is none. */
export function weekOf(report: RosterReport, config: ClassopsConfig): WeekIdentity | Finding {
  const week = report.metadata.week;
  if (!report.complete || week === undefined) {
    return {
      code: 'render-incomplete-roster',
      severity: 'error',
      message: 'The file has file-level errors, so none of its entries are rendered.',
      hint: 'Fix the errors above; the entries render once the file is valid.',
      file: report.file,
      line: 1,
      column: 1,
    };
  }
  const namespace =
    report.metadata.namespace ?? namespaceFromTemplate(config.render.namespaceTemplate, config.course, week);
  if (!isDnsLabel(namespace)) {
    return {
      code: 'render-namespace-invalid',
      severity: 'error',
      message: `The namespace template gives ${JSON.stringify(namespace)}, which is not a valid namespace name.`,
      hint: 'Fix render.namespaceTemplate in classops.yaml, or set metadata.namespace in the roster.',
      file: report.file,
      line: 1,
      column: 1,
    };
  }
  return { file: report.file, week, namespace };
}

/**
 * A week's objects from entries. Entries whose object names collide are left out
 * together, since neither can be told apart from the other.
 */
export function renderStudents(
  identity: WeekIdentity,
  students: readonly StudentToRender[],
  config: ClassopsConfig,
  revision: string,
): RenderedWeek {
  const ctx = weekContext(config, identity.week, identity.namespace, revision, identity.file);
  const byName = new Map<string, StudentToRender[]>();
  for (const s of students) {
    const name = studentObjectName(s.entry.githubUsername);
    byName.set(name, [...(byName.get(name) ?? []), s]);
  }
  const findings: Finding[] = [];
  const rendered: RenderedStudent[] = [];
  for (const [name, group] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (group.length > 1 || !isDnsLabel(name)) {
      for (const s of group) {
        findings.push({
          code: 'render-name-collision',
          severity: 'error',
          message: `The object name ${JSON.stringify(name)} is ${group.length > 1 ? `shared by ${group.length} entries` : 'not a valid Kubernetes name'}, so this entry is not deployed.`,
          hint: 'Each student needs a distinct GitHub username.',
          file: identity.file,
          line: s.line,
          column: 1,
          ...(s.index === undefined ? {} : { entryIndex: s.index }),
        });
      }
      continue;
    }
    const { entry, digest, latest } = group[0]!;
    rendered.push({
      student: entry.githubUsername.toLowerCase(),
      entry,
      image: deployedImage(entry, digest, config.render),
      objects: renderStudent(ctx, entry, digest, latest),
    });
  }
  return { ...identity, shared: renderWeekObjects(ctx), students: rendered, findings };
}
