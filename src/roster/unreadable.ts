/**
 * A roster path the source refused to read (a link leading outside the folder, a folder
 * or submodule named *.yaml, a named pipe, a file over the size cap, a name that is not UTF-8) as a
 * report: one file-level error, so the file is incomplete and keeps what it deployed.
 */
import { NO_METADATA, type RosterReport } from './model.js';

export function unreadableReport(file: string, reason: string): RosterReport {
  return {
    file,
    complete: false,
    metadata: NO_METADATA,
    studentsLine: 1,
    entries: [],
    findings: [
      {
        code: 'file-unreadable',
        severity: 'error',
        message: `classops does not read this file: ${reason}.`,
        hint: 'Keep each roster a regular file named week-NN.yaml, directly in the roster folder and within policy.limits.maxFileBytes; in a folder source, a link is followed only while it stays inside the folder.',
        file,
        line: 1,
        column: 1,
      },
    ],
  };
}
