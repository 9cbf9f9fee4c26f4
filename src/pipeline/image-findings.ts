/** Registry verdicts as roster findings, on the line of each entry's `container_image`. */
import { addFindings, type Finding, type RosterReport } from '../roster/model.js';
import { describeVerdict, isStudentFault, type Verdict } from '../registry/verdict.js';

/** Images worth checking: on entries whose image has no error already (an image that is not a valid reference has one). */
export function imagesToCheck(report: RosterReport): string[] {
  const images = new Set<string>();
  for (const entry of report.entries) {
    const image = entry.containerImage;
    if (image === undefined) continue;
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
    const image = entry.containerImage;
    const verdict = image === undefined ? undefined : verdicts.get(image);
    if (image === undefined || verdict === undefined || verdict.kind === 'pullable') continue;
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
