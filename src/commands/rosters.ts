/** Reading and validating roster files: what every roster-consuming command starts with. */
import { readFileSync } from 'node:fs';
import type { PolicyConfig } from '../config.js';
import type { RosterReport } from '../roster/model.js';
import { validateRoster } from '../roster/validate.js';

export interface LoadedRoster {
  readonly bytes: Buffer;
  readonly report: RosterReport;
}

export function loadRosters(files: readonly string[], policy: PolicyConfig): LoadedRoster[] {
  return files.map((file) => {
    const bytes = readFileSync(file);
    return { bytes, report: validateRoster(file, bytes, policy) };
  });
}

/** File texts by name, for showing the offending line under a finding. */
export function sourcesOf(rosters: readonly LoadedRoster[]): Map<string, string> {
  return new Map(rosters.map((r) => [r.report.file, r.bytes.toString('utf8')]));
}
