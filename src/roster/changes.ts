/**
 * Judging a pull request: only entries it adds or changes can fail it. Problems of
 * entries it did not touch are kept as notes, so a student is never blocked by a
 * classmate's old mistake. With an author, a PR may only add, change or remove the
 * author's own entry (instructors excepted).
 */
import {
  compareFindings,
  holdsRemovals,
  mayBeCutShort,
  NO_FINAL_NEWLINE,
  NO_METADATA,
  type EntryResult,
  type Finding,
  type RosterReport,
} from './model.js';
import { canonicalJson } from '../canonical.js';
import type { ChangedPath } from '../source/git.js';
import { quote } from '../unsafe-characters.js';

export interface ChangeOptions {
  /** The PR author's login; undefined skips the ownership rule. */
  readonly author: string | undefined;
  readonly instructors: readonly string[];
}

function keyOf(entry: EntryResult): string | undefined {
  return entry.githubUsername?.toLowerCase();
}

/** The login an entry counts under; entries without one count together, as nobody's. */
const bucketOf = (entry: EntryResult): string => keyOf(entry) ?? '';

/**
 * An entry's login, text and data: equal for the same entry in the base and in the PR (also
 * one with no login). Text: a classmate's entry rewritten to the same data (in flow style,
 * say) would swallow the lines their own open pull request changes. Data too: text alone
 * misses what changes how it reads (a `%YAML 1.1` directive makes `No` false; a lone CR
 * ends a line for a text editor but not for YAML, and hides the keys after a comment).
 * What editors change on their own is not a change: CRLF line ends, trailing blanks, the
 * final newline.
 */
function identityOf(entry: EntryResult): string {
  const text = entry.source
    .replace(/\r\n/g, '\n')
    .replace(/[ \t]+$/gm, '')
    .trimEnd();
  return `${keyOf(entry) ?? ''}\u0000${text}\u0000${canonicalJson(entry.raw)}`;
}

/** How often each value occurs. */
function counts(values: readonly string[]): Map<string, number> {
  const byValue = new Map<string, number>();
  for (const value of values) byValue.set(value, (byValue.get(value) ?? 0) + 1);
  return byValue;
}

/** What a PR changes of a file's header (its week, namespace, semester), or undefined. */
function headerChange(current: RosterReport, base: RosterReport | undefined): string | undefined {
  if (base === undefined) return 'adds a new roster file';
  const fields = ['week', 'namespace', 'semester'] as const;
  const changed = fields.filter((f) => current.metadata[f] !== base.metadata[f]);
  return changed.length === 0 ? undefined : `changes metadata.${changed.join(', metadata.')}`;
}

/**
 * The current report as a PR check sees it. `base` is the same file at the base
 * revision, or undefined when the PR adds the file; `touched` says whether git sees the
 * PR change the file at all.
 */
export function judgeChanges(
  current: RosterReport,
  base: RosterReport | undefined,
  options: ChangeOptions,
  touched: boolean,
): RosterReport {
  // An entry is unchanged when the base holds the same entry, and only as often as the base
  // holds it: a verbatim copy of a classmate's entry is an entry this PR adds.
  const unmatched = counts((base?.entries ?? []).map(identityOf));
  const changed = new Set<number>();
  for (const entry of current.entries) {
    const identity = identityOf(entry);
    const left = unmatched.get(identity) ?? 0;
    if (left > 0) unmatched.set(identity, left - 1);
    else changed.add(entry.index);
  }
  const baseKeys = counts((base?.entries ?? []).map(bucketOf));
  const currentKeys = counts(current.entries.map(bucketOf));
  const baseFileProblems = new Set(
    (base?.findings ?? []).filter((f) => f.entryIndex === undefined).map((f) => `${f.code}\u0000${f.message}`),
  );
  // A file the PR leaves as it was that the base could not read either (a link, say): nothing in it is the PR's.
  // A missing final line break holds the file back, and is the PR's to add as it touches the file.
  const unchangedProblem = (f: Finding): boolean =>
    (!touched && base === undefined) ||
    (f.entryIndex === undefined
      ? baseFileProblems.has(`${f.code}\u0000${f.message}`) && !(touched && f.code === NO_FINAL_NEWLINE)
      : !changed.has(f.entryIndex));

  const findings: Finding[] = current.findings.map((f) =>
    f.severity !== 'note' && unchangedProblem(f) ? { ...f, severity: 'note' } : f,
  );

  const author = options.author?.toLowerCase();
  const baseCut = base !== undefined && mayBeCutShort(base);
  if (!touched || exempt(options)) {
    // Nothing to hold against the author: an instructor, or a file the PR leaves as it was.
  } else if (base !== undefined && (!base.complete || baseCut)) {
    // Its entries could not be read at the base, or a cut may have lost some: no change to it
    // can be told apart from another, and ending it anew would deploy what the cut left.
    findings.push({
      code: 'author-broken-base',
      severity: 'error',
      message: `This pull request by ${quote(options.author ?? '')} changes ${quote(current.file)}, which has errors at the base revision${baseCut ? ' and may have been cut short' : ''}; only instructors change it until it is repaired.`,
      hint: baseCut
        ? "Ask an instructor to compare the file with its earlier revisions (if it has any) and restore what a cut lost, and to end it with a line break, its last entry complete (an entry still waiting for its image is best kept as a comment, as the roster's own example is); then change only your own entry in it."
        : 'Ask an instructor to repair the file first; then change only your own entry in it.',
      file: current.file,
      line: 1,
      column: 1,
    });
  } else {
    // A file whose YAML cannot be read has no header to compare: its own errors say what is wrong.
    const header = base !== undefined && current.metadata === NO_METADATA ? undefined : headerChange(current, base);
    if (header !== undefined)
      findings.push({
        code: 'author-header-change',
        severity: 'error',
        message: `This pull request by ${quote(options.author ?? '')} ${header}; only instructors change where a week is deployed.`,
        hint: 'Keep your change to your own entry under students:. Ask an instructor if the week itself needs changing.',
        file: current.file,
        line: current.metadata.headerLine,
        column: 1,
      });
    // An entry of someone else's with errors, left last by this change, would hold every
    // removal in the week: classops cannot tell it from a file cut short.
    const last = current.entries[current.entries.length - 1];
    if (last !== undefined && holdsRemovals(current, last) && !changed.has(last.index))
      findings.push({
        code: 'author-fragment-last',
        severity: 'error',
        message: `This pull request by ${quote(options.author ?? '')} leaves the entry on line ${last.line}, which has errors, last in the file: classops would then remove no one from this week, as it cannot tell that entry from a file cut short.`,
        hint: 'Ask an instructor to complete that entry, or to keep it as a comment until it is ready; or keep an entry of yours after it.',
        file: current.file,
        line: last.line,
        column: 1,
      });
    for (const entry of current.entries) {
      const key = keyOf(entry);
      if (!changed.has(entry.index) || key === author) continue;
      const bucket = bucketOf(entry);
      const adds = key === undefined || (currentKeys.get(bucket) ?? 0) > (baseKeys.get(bucket) ?? 0);
      findings.push({
        code: 'author-mismatch',
        severity: 'error',
        message: `This pull request by ${quote(options.author ?? '')} ${adds ? 'adds' : 'changes'} ${adds && baseKeys.has(bucket) ? 'another' : 'the'} entry of ${quote(entry.githubUsername ?? '(no username)')}.`,
        hint: 'Students may only add or edit their own entry. If this is your entry, set github_username to your own login.',
        file: current.file,
        line: entry.line,
        column: 1,
        entryIndex: entry.index,
      });
    }
    // Fewer entries of a login than the base had: the last ones left unmatched above are the ones removed.
    const removed = new Map([...baseKeys].map(([key, n]) => [key, n - (currentKeys.get(key) ?? 0)]));
    for (const entry of [...(base?.entries ?? [])].reverse()) {
      const key = bucketOf(entry);
      if (key === author || !current.complete) continue;
      const identity = identityOf(entry);
      if ((removed.get(key) ?? 0) <= 0 || (unmatched.get(identity) ?? 0) <= 0) continue;
      removed.set(key, removed.get(key)! - 1);
      unmatched.set(identity, unmatched.get(identity)! - 1);
      findings.push({
        code: 'author-removed-entry',
        severity: 'error',
        message: `This pull request by ${quote(options.author ?? '')} removes the entry of ${quote(entry.githubUsername ?? '(no username)')} (line ${entry.line} before the change).`,
        hint: 'Students may only remove their own entry. Restore the lines you deleted.',
        file: current.file,
        line: current.studentsLine,
        column: 1,
      });
    }
  }
  findings.sort(compareFindings);
  return { ...current, findings, changedEntries: [...changed].sort((a, b) => a - b) };
}

/** Whether the author may change anything (instructors), or is unknown (no ownership rule). */
function exempt(options: ChangeOptions): boolean {
  const author = options.author?.toLowerCase();
  return author === undefined || options.instructors.some((i) => i.toLowerCase() === author);
}

const VERBS: Record<string, string> = { A: 'adds', D: 'deletes', T: 'changes the type of' };
const KINDS: Record<string, string> = { '120000': ' as a symbolic link', '160000': ' as a submodule' };

/**
 * A change outside the roster files (a workflow, `.gitattributes`, a link in place of the
 * roster folder): none is a student's to make, and some change what CI checks or what the
 * controller reads without any roster line showing it.
 */
export function judgeOtherChange(
  change: Pick<ChangedPath, 'name' | 'status' | 'mode'>,
  options: ChangeOptions,
): RosterReport | undefined {
  if (exempt(options)) return undefined;
  return instructorOnly(
    change.name,
    'author-other-file',
    `This pull request by ${quote(options.author ?? '')} ${VERBS[change.status] ?? 'changes'} ${quote(change.name)}${KINDS[change.mode] ?? ''}; students change only their own entry, in a roster file.`,
    'Remove this change from your pull request; ask an instructor if the course repository needs it.',
  );
}

/** A change only instructors may make, as a report of its own with one error at line 1. */
function instructorOnly(file: string, code: string, message: string, hint: string): RosterReport {
  return {
    file,
    complete: true,
    metadata: NO_METADATA,
    studentsLine: 1,
    entries: [],
    findings: [{ code, severity: 'error', message, hint, file, line: 1, column: 1 }],
  };
}

/**
 * The course's rules live in classops.yaml, so a pull request that changes it (say, adding
 * its author to policy.instructors) is an instructor's change. `change` is how the PR
 * changes the file, if it does.
 */
export function judgeConfigChange(
  file: string,
  change: Pick<ChangedPath, 'status'> | undefined,
  options: ChangeOptions,
): RosterReport | undefined {
  if (change === undefined || exempt(options)) return undefined;
  const verb = change.status === 'D' ? 'removes' : change.status === 'A' ? 'adds' : 'changes';
  return instructorOnly(
    file,
    'config-changed',
    `This pull request by ${quote(options.author ?? '')} ${verb} ${quote(file)}, the course's rules; only instructors may change them.`,
    `Remove your changes to ${file} from this pull request; it is judged by the rules of the base branch.`,
  );
}

/**
 * A student's pull request adds one short entry. A file grown by more than the course
 * allows (padding, pasted text) would leave the next classmates no room under maxFileBytes.
 */
export function judgeGrowth(
  report: RosterReport,
  size: { readonly before: number; readonly after: number },
  maxGrowth: number,
  options: ChangeOptions,
): RosterReport {
  const growth = size.after - size.before;
  if (growth <= maxGrowth || exempt(options)) return report;
  const finding: Finding = {
    code: 'author-file-growth',
    severity: 'error',
    message: `This pull request by ${quote(options.author ?? '')} grows ${quote(report.file)} by ${growth} bytes; a student's change may add at most ${maxGrowth} (an entry takes a few hundred).`,
    hint: 'Remove whatever was pasted or padded, and keep only your own entry.',
    file: report.file,
    line: report.studentsLine,
    column: 1,
  };
  return { ...report, findings: [...report.findings, finding].sort(compareFindings) };
}

/** A pull request that deletes a whole roster file: every entry in it goes; instructors only. */
export function judgeRemovedFile(file: string, entries: number, options: ChangeOptions): RosterReport | undefined {
  if (exempt(options)) return undefined;
  return instructorOnly(
    file,
    'author-removed-file',
    `This pull request by ${quote(options.author ?? '')} deletes ${quote(file)} and with it ${entries} ${entries === 1 ? 'entry' : 'entries'}; only instructors remove or rename a week's file.`,
    'Restore the file, and change only your own entry in it.',
  );
}
