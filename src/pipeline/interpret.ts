/**
 * What the rosters mean: the one pipeline every command and the controller use.
 * Files in; reports (every finding a PR author should read), image verdicts, and the
 * desired objects with who gets what out. `validate` stops after the reports, `render`
 * renders with no last-known-good, the controller passes what ran last.
 */
import type { ClassopsConfig, PolicyConfig } from '../config.js';
import type { Verdict } from '../registry/verdict.js';
import { addFindings, type RosterReport } from '../roster/model.js';
import { unreadableReport } from '../roster/unreadable.js';
import { validateRoster } from '../roster/validate.js';
import { desiredState, type DesiredState, type LastGood } from './desired.js';
import { imagesToCheck, withImageVerdicts } from './image-findings.js';
import { claimWeeks, type Protection } from './weeks.js';

export interface ImageVerifier {
  checkAll(images: Iterable<string>): Promise<Map<string, Verdict>>;
}

export interface RosterInput {
  /** Roster files by path: their bytes as read. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Paths named like rosters that could not be read (path → why), from the source. */
  readonly unreadable?: ReadonlyMap<string, string>;
  readonly config: ClassopsConfig;
  /** Checks every image when given; verdicts become findings and pin digests. */
  readonly images?: ImageVerifier | undefined;
}

export interface RenderInput {
  readonly revision: string;
  /** What each student last ran, by `namespace/login`: kept while their entry or file is broken. */
  readonly lastGood: ReadonlyMap<string, LastGood>;
}

export interface Interpretation {
  readonly reports: readonly RosterReport[];
  readonly verdicts: ReadonlyMap<string, Verdict>;
  readonly protection: Protection;
  /** Present when asked to render. */
  readonly desired: DesiredState | undefined;
}

/** Namespaces each file's students last ran in, for protecting what a broken file owned. */
function namespacesByFile(lastGood: ReadonlyMap<string, LastGood>): Map<string, Set<string>> {
  const byFile = new Map<string, Set<string>>();
  for (const good of lastGood.values())
    byFile.set(good.week.file, (byFile.get(good.week.file) ?? new Set()).add(good.week.namespace));
  return byFile;
}

/**
 * Reports by the bytes they were made from. A source hands out the same snapshot while
 * nothing changed (the same commit, the same folder contents), and validating is pure, so a
 * pass that finds nothing new validates nothing again.
 */
const validated = new WeakMap<Uint8Array, { file: string; policy: PolicyConfig; report: RosterReport }>();

function validate(file: string, bytes: Uint8Array, policy: PolicyConfig): RosterReport {
  const known = validated.get(bytes);
  if (known?.file === file && known.policy === policy) return known.report;
  const report = validateRoster(file, bytes, policy);
  validated.set(bytes, { file, policy, report });
  return report;
}

export async function interpretRosters(input: RosterInput, render?: RenderInput): Promise<Interpretation> {
  const { config } = input;
  const reports = [
    ...[...input.files].map(([file, bytes]) => validate(file, bytes, config.policy)),
    ...[...(input.unreadable ?? [])].map(([file, reason]) => unreadableReport(file, reason)),
  ];
  const verdicts =
    input.images === undefined
      ? new Map<string, Verdict>()
      : await input.images.checkAll(reports.flatMap(imagesToCheck));
  return interpretReports(reports, verdicts, config, render);
}

/** The pure rest of the pipeline, for reports already validated and images already checked. */
export function interpretReports(
  validated: readonly RosterReport[],
  verdicts: ReadonlyMap<string, Verdict>,
  config: ClassopsConfig,
  render?: RenderInput,
): Interpretation {
  const reports = verdicts.size === 0 ? validated : validated.map((r) => withImageVerdicts(r, verdicts));
  const claimed = claimWeeks(reports, config, namespacesByFile(render?.lastGood ?? new Map()));
  const desired =
    render === undefined ? undefined : desiredState(claimed, verdicts, render.lastGood, config, render.revision);
  const rendered = desired === undefined ? claimed.reports : withRenderFindings(claimed.reports, desired);
  return { reports: rendered, verdicts, protection: claimed.protection, desired };
}

/** Problems only rendering finds (object names), on the entries they are about. */
function withRenderFindings(reports: readonly RosterReport[], desired: DesiredState): RosterReport[] {
  return reports.map((report) => {
    const extra = desired.weeks.flatMap((w) => w.findings.filter((f) => f.file === report.file));
    return addFindings(report, extra);
  });
}
