/**
 * What a pull request shows: one comment (a row per added or changed entry with its
 * verdict) and the check run's annotations. Every piece of student text goes through
 * markdownSafe, so a name cannot close the table, mention anyone, or make a link.
 */
import { bySeverity, type Finding } from '../roster/model.js';
import { markdownSafe, plainText } from '../roster/report.js';
import type { ReportFile } from './report-file.js';

/** Finds the comment again on the next run; an Actions token cannot ask who it is. */
export const COMMENT_MARKER = '<!-- classops:pr-report -->';
/** GitHub refuses comment bodies over 65 536 characters; keep room for the closing lines. */
const MAX_COMMENT = 60_000;
const ANNOTATION_TEXT = 4000;

const ICON = { error: '❌', warning: '⚠️', note: 'ℹ️' } as const;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function countErrors(files: readonly ReportFile[]): number {
  return files.reduce((n, f) => n + f.findings.filter((x) => x.severity === 'error').length, 0);
}

function problemText(f: Finding): string {
  return `${ICON[f.severity]} line ${f.line}: ${markdownSafe(f.message)}${f.hint ? ` **Fix:** ${markdownSafe(f.hint)}` : ''}`;
}

/** `commit` is the one judged: a comment from an earlier push must not read as the current verdict. */
export function formatComment(files: readonly ReportFile[], commit?: string): string {
  const errors = countErrors(files);
  const rows: string[] = [];
  const fileProblems: string[] = [];
  for (const file of files) {
    const shown = (f: Finding) => f.severity !== 'note';
    for (const entry of file.entries) {
      const problems = file.findings.filter((f) => f.entryIndex === entry.index && shown(f));
      if (entry.changed === false || (entry.changed === undefined && problems.length === 0 && entry.valid)) continue;
      const verdict =
        problems.length === 0 ? '✅ valid: it will deploy once merged' : problems.map(problemText).join('<br>');
      const who = entry.githubUsername === undefined ? '(no github_username)' : markdownSafe(entry.githubUsername);
      rows.push(`| ${who} | ${markdownSafe(file.file)} line ${entry.line} | ${verdict} |`);
    }
    for (const f of file.findings.filter((x) => x.entryIndex === undefined && shown(x)))
      fileProblems.push(`- ${markdownSafe(file.file)}: ${problemText(f)}`);
  }
  const out = [COMMENT_MARKER];
  if (errors > 0) out.push(`### ❌ classops: ${plural(errors, 'problem')} to fix before this can be merged`);
  else if (rows.length > 0)
    out.push(
      '### ✅ classops: every entry in this pull request is valid',
      '',
      'Nice work! Once an instructor merges it, your app is deployed within seconds, and the commit gets a `classops/<login>` status when it is live.',
    );
  else out.push('### ✅ classops: this pull request changes no roster entry');
  let length = out.join('\n').length;
  const add = (lines: string[], header: string[], more: (hidden: number) => string) => {
    if (lines.length === 0) return;
    out.push('', ...header);
    length += header.join('\n').length;
    let hidden = 0;
    for (const line of lines) {
      // A line too long to fit is left out alone: the shorter ones after it still are shown.
      if (length + line.length > MAX_COMMENT - 200) {
        hidden += 1;
        continue;
      }
      out.push(line);
      length += line.length + 1;
    }
    if (hidden > 0) out.push(more(hidden));
  };
  // What the pull request does beyond entries (another file, a header) comes first: rows
  // of entries, however many, never push it out.
  add(fileProblems, [], (n) => `- … ${n} more not shown: see the check run's annotations`);
  add(
    rows,
    ['| Student | Entry | Verdict |', '|---|---|---|'],
    (n) => `| … | ${n} more not shown | see the check run's annotations |`,
  );
  out.push(
    '',
    `<sub>${commit === undefined ? '' : `Judged at commit ${commit.slice(0, 12)}. `}classops edits this comment on every push to this pull request. Notes about entries it did not change are in the check run.</sub>`,
  );
  return `${out.join('\n')}\n`;
}

export interface Annotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly annotation_level: 'failure' | 'warning' | 'notice';
  readonly title: string;
  readonly message: string;
}

/**
 * GitHub takes 50 annotations a request, and a client spaces its writes about a second
 * apart: past this many, the job would wait minutes for warnings nobody reads.
 */
const MAX_ANNOTATIONS = 500;

/** One annotation per finding, errors first, at most MAX_ANNOTATIONS; check runs show plain text, so only length is bounded. */
export function annotationsOf(files: readonly ReportFile[]): Annotation[] {
  const level = { error: 'failure', warning: 'warning', note: 'notice' } as const;
  const findings = files.flatMap((file) => file.findings.map((f) => ({ file, f })));
  // The most serious first, and of those the file-level ones, which no number of entries may push out.
  const fileLevel = (f: Finding) => (f.entryIndex === undefined ? 0 : 1);
  findings.sort((a, b) => bySeverity(a.f, b.f) || fileLevel(a.f) - fileLevel(b.f));
  return findings.slice(0, MAX_ANNOTATIONS).map(({ file, f }) => ({
    path: file.file,
    start_line: f.line,
    end_line: f.line,
    annotation_level: level[f.severity],
    title: `classops ${f.code}`,
    message: [...plainText(f)].slice(0, ANNOTATION_TEXT).join(''),
  }));
}
