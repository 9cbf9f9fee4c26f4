/** Registry verdicts as roster findings, on the line of each entry's `container_image`. */
import { addFindings, type Finding, type RosterReport } from '../roster/model.js';
import { parseImageReference } from './reference.js';
import { describeVerdict, isStudentFault, type Verdict } from './verdict.js';

/** Images worth checking: written as valid references, on entries whose image has no error already. */
export function imagesToCheck(report: RosterReport): string[] {
  const images = new Set<string>();
  for (const entry of report.entries) {
    const raw = entry.raw as Record<string, unknown> | null;
    const image = typeof raw === 'object' && raw !== null ? raw['container_image'] : undefined;
    if (typeof image !== 'string' || !parseImageReference(image).ok) continue;
    const imageError = report.findings.some(
      (f) => f.entryIndex === entry.index && f.severity === 'error' && f.code.startsWith('image-'),
    );
    if (!imageError) images.add(image);
  }
  return [...images].sort();
}

export function withImageVerdicts(report: RosterReport, verdicts: ReadonlyMap<string, Verdict>): RosterReport {
  const extra: Finding[] = [];
  for (const entry of report.entries) {
    const raw = entry.raw as Record<string, unknown> | null;
    const image = typeof raw === 'object' && raw !== null ? raw['container_image'] : undefined;
    const verdict = typeof image === 'string' ? verdicts.get(image) : undefined;
    if (verdict === undefined || verdict.kind === 'pullable' || typeof image !== 'string') continue;
    extra.push({
      code: `image-${verdict.kind}`,
      severity: isStudentFault(verdict) ? 'error' : 'warning',
      ...describeVerdict(verdict, image),
      file: report.file,
      line: entry.imageLine,
      column: entry.imageColumn,
      entryIndex: entry.index,
    });
  }
  return addFindings(report, extra);
}
