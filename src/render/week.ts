/** One validated roster file in, the week's objects out: what `render` writes and the controller applies. */
import type { ClassopsConfig } from '../config.js';
import type { Finding, RosterReport, StudentEntry } from '../roster/model.js';
import { isDnsLabel, namespaceFromTemplate, studentObjectName } from './names.js';
import { deployedImage, renderStudent, renderWeekObjects, weekContext, type KubeObject } from './objects.js';

export interface RenderedStudent {
  /** Lowercase GitHub login: the student's identity across revisions. */
  readonly student: string;
  readonly entry: StudentEntry;
  readonly image: string;
  readonly objects: readonly KubeObject[];
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

/**
 * The week a complete roster describes, or undefined with a finding when its namespace
 * cannot be derived. Entries with errors are not rendered; entries whose names collide
 * are left out together, since neither can be told apart from the other.
 */
export function renderWeek(report: RosterReport, config: ClassopsConfig, inputs: RenderInputs): RenderedWeek | Finding {
  const week = report.metadata.week;
  if (!report.complete || week === undefined) {
    return { code: 'render-incomplete-roster', severity: 'error', message: 'The file has file-level errors, so none of its entries are rendered.', hint: 'Fix the errors above; the entries render once the file is valid.', file: report.file, line: 1, column: 1 };
  }
  const namespace = report.metadata.namespace ?? namespaceFromTemplate(config.render.namespaceTemplate, config.course, week);
  if (!isDnsLabel(namespace)) {
    return { code: 'render-namespace-invalid', severity: 'error', message: `The namespace template gives ${JSON.stringify(namespace)}, which is not a valid namespace name.`, hint: 'Fix render.namespaceTemplate in classops.yaml, or set metadata.namespace in the roster.', file: report.file, line: 1, column: 1 };
  }
  const ctx = weekContext(config, week, namespace, inputs.revision);
  const valid = report.entries.flatMap((e) => (e.entry === undefined ? [] : [{ result: e, entry: e.entry }]));
  const byName = new Map<string, typeof valid>();
  for (const v of valid) {
    const name = studentObjectName(v.entry.githubUsername);
    byName.set(name, [...(byName.get(name) ?? []), v]);
  }
  const findings: Finding[] = [];
  const students: RenderedStudent[] = [];
  for (const [name, group] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (group.length > 1 || !isDnsLabel(name)) {
      for (const { result } of group) {
        findings.push({ code: 'render-name-collision', severity: 'error', message: `The object name ${JSON.stringify(name)} is ${group.length > 1 ? `shared by ${group.length} entries` : 'not a valid Kubernetes name'}, so this entry is not deployed.`, hint: 'Each student needs a distinct GitHub username.', file: report.file, line: result.line, column: 1, entryIndex: result.index });
      }
      continue;
    }
    const { entry } = group[0]!;
    const digest = inputs.digests?.get(entry.containerImage);
    const objects = renderStudent(ctx, entry, digest);
    students.push({ student: entry.githubUsername.toLowerCase(), entry, image: deployedImage(entry, digest, config.render), objects });
  }
  return { file: report.file, week, namespace, shared: renderWeekObjects(ctx), students, findings };
}
