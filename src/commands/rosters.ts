/** Reading and validating roster files: what every roster-consuming command starts with. */
import { readFileSync } from 'node:fs';
import type { PolicyConfig, RegistryConfig } from '../config.js';
import { ImageChecker } from '../registry/checker.js';
import { imagesToCheck, withImageVerdicts } from '../registry/findings.js';
import type { Verdict } from '../registry/verdict.js';
import type { RosterReport } from '../roster/model.js';
import { unreadableReport } from '../roster/unreadable.js';
import { validateRoster } from '../roster/validate.js';
import type { RosterListing } from '../source/dir.js';

export interface LoadedRoster {
  readonly bytes: Buffer;
  readonly report: RosterReport;
}

export function loadRosters(listing: RosterListing, policy: PolicyConfig): LoadedRoster[] {
  const read = listing.files.map((file) => {
    const bytes = readFileSync(file);
    return { bytes, report: validateRoster(file, bytes, policy) };
  });
  const refused = [...listing.problems].map(([file, why]) => ({
    bytes: Buffer.alloc(0),
    report: unreadableReport(file, why),
  }));
  return [...read, ...refused];
}

/** File texts by name, for showing the offending line under a finding. */
export function sourcesOf(rosters: readonly LoadedRoster[]): Map<string, string> {
  return new Map(rosters.map((r) => [r.report.file, r.bytes.toString('utf8')]));
}

/** Checks every roster's images once and adds the verdicts as findings. */
export async function checkRosterImages(
  reports: readonly RosterReport[],
  registry: RegistryConfig,
): Promise<{ reports: RosterReport[]; verdicts: Map<string, Verdict> }> {
  const verdicts = await new ImageChecker(registry).checkAll(reports.flatMap(imagesToCheck));
  return { reports: reports.map((report) => withImageVerdicts(report, verdicts)), verdicts };
}

/** Digests of the pullable images, for pinning. */
export function digestsOf(verdicts: ReadonlyMap<string, Verdict>): Map<string, string> {
  return new Map(
    [...verdicts].flatMap(([image, v]) => (v.kind === 'pullable' ? [[image, v.digest] as [string, string]] : [])),
  );
}
