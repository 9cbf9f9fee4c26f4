/**
 * Validation results in the four shapes users read them: a terminal, a tool (JSON),
 * GitHub Actions annotations, and a Markdown PR comment. Student-written text is
 * escaped for each medium: it is data, never markup or terminal control codes.
 */
import { showUnsafe, shown } from '../unsafe-characters.js';
import type { Finding, RosterReport, Severity } from './model.js';

export type ReportFormat = 'text' | 'json' | 'github' | 'markdown';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'json', 'github', 'markdown'];

export interface Summary {
  readonly files: number;
  readonly entries: number;
  readonly validEntries: number;
  readonly errors: number;
  readonly warnings: number;
  readonly notes: number;
}

export function summarize(reports: readonly RosterReport[]): Summary {
  const all = reports.flatMap((r) => r.findings);
  const count = (s: Severity) => all.filter((f) => f.severity === s).length;
  return {
    files: reports.length,
    entries: reports.reduce((n, r) => n + r.entries.length, 0),
    // A file held back (not complete) deploys none of its entries, however valid each is.
    validEntries: reports.reduce(
      (n, r) => n + (r.complete ? r.entries.filter((e) => e.entry !== undefined).length : 0),
      0,
    ),
    errors: count('error'),
    warnings: count('warning'),
    notes: count('note'),
  };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function summaryLine(s: Summary): string {
  const problems = [
    plural(s.errors, 'error'),
    plural(s.warnings, 'warning'),
    ...(s.notes > 0 ? [plural(s.notes, 'note')] : []),
  ].join(', ');
  return `${problems} in ${plural(s.files, 'file')}; ${s.validEntries} of ${plural(s.entries, 'entry', 'entries')} will deploy.`;
}

/**
 * What a student wrote, fit for a terminal: tabs as two spaces, and control characters (ESC
 * among them) and invisible direction marks as visible escapes, so nothing can drive the
 * terminal or make an echoed line read as another.
 */
const terminalSafe = (text: string): string => showUnsafe(text.replace(/\t/g, '  '));

/** Wide (East Asian and emoji) characters take two columns, marks and format characters none. */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}|\p{Regional_Indicator}/u;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]+$/u;
/** A pictograph followed by U+FE0F is drawn as an emoji: two columns, as ❤️. */
const EMOJI_STYLE = /^\p{Extended_Pictographic}\ufe0f/u;

/** Made on the first caret drawn, and kept: making one per finding cost more than the segmenting. */
let graphemes: Intl.Segmenter | undefined;

/**
 * The terminal columns a line takes, for the caret: one character as the reader sees it (a
 * flag, a skin-toned or joined emoji, a letter with its accents) is drawn as its first code
 * point is, or as an emoji when it asks to be one.
 */
function columnsOf(text: string): number {
  let columns = 0;
  graphemes ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  for (const { segment } of graphemes.segment(text))
    columns += ZERO_WIDTH.test(segment) ? 0 : WIDE.test(segment) || EMOJI_STYLE.test(segment) ? 2 : 1;
  return columns;
}

/** Characters of a line shown at most, and before the column: a line pasted whole (a key, a blob) is cut around it. */
const SHOWN = 160;
const SHOWN_BEFORE = 60;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/** The part of a source line shown under a finding, and the part of it before the column (for the caret). */
function excerpt(source: string, column: number): { shown: string; before: string } {
  const at = Math.max(0, column - 1);
  if (source.length <= SHOWN) return { shown: source, before: source.slice(0, at) };
  let start = Math.max(0, Math.min(at - SHOWN_BEFORE, source.length - SHOWN));
  let end = Math.min(source.length, start + SHOWN);
  // Never half a character: a cut between the halves of a surrogate pair would print garbage.
  if (start > 0 && isLowSurrogate(source.charCodeAt(start))) start -= 1;
  if (end < source.length && isLowSurrogate(source.charCodeAt(end))) end += 1;
  const head = start > 0 ? '…' : '';
  return {
    shown: `${head}${source.slice(start, end)}${end < source.length ? '…' : ''}`,
    before: `${head}${source.slice(start, Math.max(start, at))}`,
  };
}

export interface TextOptions {
  readonly color: boolean;
  /** File texts, to show the offending line under each finding. */
  readonly sources: ReadonlyMap<string, string>;
}

export function formatText(reports: readonly RosterReport[], options: TextOptions): string {
  const paint = (code: string) => (s: string) => (options.color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const red = paint('31');
  const yellow = paint('33');
  const dim = paint('2');
  const bold = paint('1');
  const green = paint('32');
  const label: Record<Severity, string> = { error: red('error'), warning: yellow('warning'), note: dim('note') };
  const out: string[] = [];
  for (const report of reports) {
    const lines = options.sources.get(report.file)?.split(/\r?\n/) ?? [];
    if (report.findings.length === 0) {
      out.push(
        `${green('✔')} ${terminalSafe(report.file)}: ${plural(report.entries.length, 'entry', 'entries')}, all valid`,
      );
      continue;
    }
    out.push(bold(terminalSafe(report.file)));
    for (const f of report.findings) {
      out.push(`  ${terminalSafe(f.file)}:${f.line}:${f.column}: ${label[f.severity]} ${dim(f.code)}`);
      out.push(`    ${terminalSafe(f.message)}`);
      const source = lines[f.line - 1];
      if (source !== undefined && source.trim() !== '' && f.code !== 'secret-in-file') {
        const gutter = String(f.line);
        const { shown, before: raw } = excerpt(source, f.column);
        out.push(dim(`    ${gutter} | `) + terminalSafe(shown));
        // Under the column as shown: escapes and tabs before it widen the line.
        const before = terminalSafe(raw);
        out.push(
          dim(`    ${' '.repeat(gutter.length)} | `) +
            ' '.repeat(columnsOf(before)) +
            (f.severity === 'error' ? red('^') : yellow('^')),
        );
      }
      if (f.hint) out.push(`    ${green('fix:')} ${terminalSafe(f.hint)}`);
    }
  }
  const summary = summarize(reports);
  out.push('', `${summary.errors > 0 ? red('✖') : green('✔')} ${summaryLine(summary)}`);
  return `${out.join('\n')}\n`;
}

export function formatJson(reports: readonly RosterReport[]): string {
  const files = reports.map((r) => ({
    file: r.file,
    complete: r.complete,
    week: r.metadata.week ?? null,
    namespace: r.metadata.namespace ?? null,
    entries: r.entries.map((e) => ({
      index: e.index,
      line: e.line,
      // What the student wrote, as every message shows it: hidden characters escaped, at most 80 characters.
      githubUsername: e.githubUsername === undefined ? null : shown(e.githubUsername),
      valid: e.entry !== undefined,
      ...(r.changedEntries === undefined ? {} : { changed: r.changedEntries.includes(e.index) }),
    })),
    findings: r.findings,
  }));
  return `${JSON.stringify({ summary: summarize(reports), files }, null, 2)}\n`;
}

/** Escaping of workflow-command data and properties, as the Actions runner reads them. */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', note: 'notice' };

/** A finding's message and fix as plain lines, unsafe characters escaped: what Actions and check runs show. */
export const plainText = (f: Finding): string =>
  f.hint ? `${showUnsafe(f.message)}\nFix: ${showUnsafe(f.hint)}` : showUnsafe(f.message);

export function formatGithub(reports: readonly RosterReport[]): string {
  const lines = reports.flatMap((r) =>
    r.findings.map((f) => {
      const props = `file=${escapeProperty(showUnsafe(f.file))},line=${f.line},col=${f.column},title=${escapeProperty(`classops ${f.code}`)}`;
      return `::${COMMAND[f.severity]} ${props}::${escapeData(plainText(f))}`;
    }),
  );
  return `${[...lines, summaryLine(summarize(reports))].join('\n')}\n`;
}

/** Markdown that shows student text literally: no links (bare URLs included), mentions, math, HTML or table breaks. */
export function markdownSafe(text: string): string {
  return (
    showUnsafe(text.replace(/[\r\n]+/g, ' '))
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/([\\`*_{}[\]()#+!|~])/g, '\\$1')
      // GitHub renders $…$ and $$…$$ as math, escaped or not; as an entity it stays a dollar sign.
      .replace(/\$/g, '&#36;')
      .replace(/@/g, '@\u200b')
      .replace(/:\/\//g, ':\u200b//')
      // GitHub links GH-123 to issue 123, and would note the mention there.
      .replace(/\b(gh)-(?=\d)/gi, '$1\u200b-')
      .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}\u200b.`)
  );
}

const ICON: Record<Severity, string> = { error: '❌', warning: '⚠️', note: 'ℹ️' };

export function formatMarkdown(reports: readonly RosterReport[]): string {
  const summary = summarize(reports);
  const out = [`### ${summary.errors > 0 ? '❌' : '✅'} classops: ${summaryLine(summary)}`, ''];
  const findings: Finding[] = reports.flatMap((r) => r.findings);
  if (findings.length > 0) {
    out.push('| | Where | Problem | How to fix |', '|---|---|---|---|');
    for (const f of findings) {
      out.push(
        `| ${ICON[f.severity]} | ${markdownSafe(f.file)} line ${f.line} | ${markdownSafe(f.message)} <sub>${f.code}</sub> | ${markdownSafe(f.hint ?? '')} |`,
      );
    }
    if (summary.notes > 0)
      out.push('', 'ℹ️ Notes are problems in entries this pull request did not change; they do not fail the check.');
  }
  return `${out.join('\n')}\n`;
}
