/** The roster's types: what parsing and validation hand to every later stage. */

export type Severity = 'error' | 'warning' | 'note';

/** Every severity, the most serious first. */
export const SEVERITIES: readonly Severity[] = ['error', 'warning', 'note'];

/** Orders findings the most serious first (a stable sort keeps their order otherwise). */
export const bySeverity = (a: { readonly severity: Severity }, b: { readonly severity: Severity }): number =>
  SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity);

/** One thing a PR author should read: where, what, and how to fix it. */
export interface Finding {
  /** Stable identifier, e.g. `image-owner-mismatch`; documented in the README. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly hint?: string;
  readonly file: string;
  /** 1-based line and column of the node the finding is about. */
  readonly line: number;
  readonly column: number;
  /** Index of the entry in `students`, when the finding is about one entry. */
  readonly entryIndex?: number;
}

/** A student entry with defaults applied. Only entries without errors become StudentEntry. */
export interface StudentEntry {
  readonly name: string;
  readonly githubUsername: string;
  readonly containerImage: string;
  readonly studentEndpoint: string;
  readonly healthEndpoint: string;
  readonly port: number;
}

export const ENTRY_DEFAULTS = {
  studentEndpoint: '/student',
  healthEndpoint: '/health',
  port: 5000,
} as const;

export interface EntryResult {
  readonly index: number;
  /** Line where the entry starts: its first field (the line of its `-` unless that stands alone). */
  readonly line: number;
  /** Line of `container_image`, where image verdicts are reported (the entry's line when absent). */
  readonly imageLine: number;
  readonly imageColumn: number;
  /** The login as written, when it is a string; used to group findings and compare with a PR's author. */
  readonly githubUsername: string | undefined;
  /** The display name and image as written, when they are strings (even on an entry with errors). */
  readonly name: string | undefined;
  readonly containerImage: string | undefined;
  /** The entry as written (plain data). */
  readonly raw: unknown;
  /** The entry's text as written: what a pull request must leave alone in a classmate's entry. */
  readonly source: string;
  /** Present when the entry has no error findings. */
  readonly entry: StudentEntry | undefined;
  /**
   * The entry is no mapping, or a field every entry has is missing, empty or no text: it may
   * be what is left of a classmate's entry (a file cut short), so it cannot tell who left.
   */
  readonly fragment: boolean;
}

export interface RosterMetadata {
  readonly week: number | undefined;
  readonly semester: string | undefined;
  readonly namespace: string | undefined;
  /** Where file-level findings about the header point: `metadata.namespace`, else `metadata`, else line 1. */
  readonly namespaceLine: number;
  readonly headerLine: number;
}

/** The header of a file that could not be read. */
export const NO_METADATA: RosterMetadata = {
  week: undefined,
  semester: undefined,
  namespace: undefined,
  headerLine: 1,
  namespaceLine: 1,
};

/** Everything known about one roster file after validation. */
export interface RosterReport {
  readonly file: string;
  /**
   * True when the file as a whole was read and its file-level fields are valid. Only a
   * complete roster may remove anything that is deployed; entries may still have errors.
   */
  readonly complete: boolean;
  readonly metadata: RosterMetadata;
  /** Line of the `students:` key (1 when absent), where file-wide entry problems are reported. */
  readonly studentsLine: number;
  readonly entries: readonly EntryResult[];
  readonly findings: readonly Finding[];
  /** Indexes of the entries a pull request added or changed, once judged as one (see changes.ts). */
  readonly changedEntries?: readonly number[];
}

/**
 * The code of a file that does not end with a line break, as a file cut short would not. It
 * holds the file back; only an instructor may end it anew (see mayBeCutShort).
 */
export const NO_FINAL_NEWLINE = 'file-no-final-newline';

/**
 * Whether an entry holds every removal in its week: a fragment that is the file's last
 * entry (a file cut there lost whoever came after), or one whose login cannot be read (it
 * could be anyone's). A fragment elsewhere that names its login is that student's alone.
 */
export function holdsRemovals(report: RosterReport, entry: EntryResult): boolean {
  return entry.fragment && (entry.index === report.entries.length - 1 || entry.githubUsername === undefined);
}

/** Whether the file may have been cut short: it ends without a line break, or in a fragment. */
export function mayBeCutShort(report: RosterReport): boolean {
  const last = report.entries[report.entries.length - 1];
  return report.findings.some((f) => f.code === NO_FINAL_NEWLINE) || (last?.fragment ?? false);
}

/** Findings in reading order: by line, column, then code. */
export function compareFindings(a: Finding, b: Finding): number {
  return a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

/** The indexes of the entries with an error, in one walk of the findings. */
export function entriesWithErrors(findings: readonly Finding[]): Set<number> {
  const broken = new Set<number>();
  for (const f of findings) if (f.severity === 'error' && f.entryIndex !== undefined) broken.add(f.entryIndex);
  return broken;
}

/**
 * The report with more findings (image verdicts, render problems): entries that now have
 * errors are no longer valid; nothing else changes.
 */
export function addFindings(report: RosterReport, extra: readonly Finding[]): RosterReport {
  if (extra.length === 0) return report;
  const findings = [...report.findings, ...extra].sort(compareFindings);
  const broken = entriesWithErrors(extra);
  const fileError = extra.some((f) => f.severity === 'error' && f.entryIndex === undefined);
  return {
    ...report,
    complete: report.complete && !fileError,
    entries: report.entries.map((e) => (broken.has(e.index) ? { ...e, entry: undefined } : e)),
    findings,
  };
}
