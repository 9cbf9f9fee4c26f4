/**
 * The report `classops validate --changed-since … --format json` writes, read back by
 * `pr-report`. In the two-stage fork workflow the file was made by a job that ran the
 * PR's code, so it is hostile: every field is checked, strings and counts are bounded,
 * and anything else is dropped.
 */
import { bySeverity, SEVERITIES, type Finding } from '../roster/model.js';

export const MAX_REPORT_BYTES = 10 * 1024 * 1024;
const MAX_FILES = 200;
const MAX_ENTRIES = 5000;
const MAX_FINDINGS = 5000;
const MAX_TEXT = 2000;

export interface ReportEntry {
  readonly index: number;
  readonly line: number;
  readonly githubUsername: string | undefined;
  readonly valid: boolean;
  /** Added or changed by the pull request; undefined when the report was not made against a base. */
  readonly changed: boolean | undefined;
}

export interface ReportFile {
  readonly file: string;
  readonly entries: readonly ReportEntry[];
  readonly findings: readonly Finding[];
}

export class ReportError extends Error {
  override readonly name = 'ReportError';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? [...v].slice(0, MAX_TEXT).join('') : undefined;
const count = (v: unknown): number | undefined =>
  Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined;

function readFinding(v: unknown, file: string): Finding | undefined {
  if (!isObject(v)) return undefined;
  const code = text(v['code']);
  const message = text(v['message']);
  const line = count(v['line']);
  const severity = SEVERITIES.find((s) => s === v['severity']);
  if (code === undefined || !/^[a-z0-9-]{1,60}$/.test(code) || message === undefined || line === undefined)
    return undefined;
  if (severity === undefined) return undefined;
  const hint = text(v['hint']);
  const entryIndex = count(v['entryIndex']);
  return {
    code,
    severity,
    message,
    ...(hint === undefined ? {} : { hint }),
    file,
    line: Math.max(line, 1),
    column: Math.max(count(v['column']) ?? 1, 1),
    ...(entryIndex === undefined ? {} : { entryIndex }),
  };
}

/** The files of a JSON report; throws ReportError when it is not one. */
export function readReport(json: string): ReportFile[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    throw new ReportError('the report is not JSON (make it with classops validate --format json)');
  }
  if (!isObject(data) || !Array.isArray(data['files']))
    throw new ReportError('the report has no "files" list (make it with classops validate --format json)');
  let entries = 0;
  const files = data['files'].slice(0, MAX_FILES).flatMap((f: unknown) => {
    const file = isObject(f) ? text(f['file']) : undefined;
    if (!isObject(f) || file === undefined) return [];
    const list = (key: string) => (Array.isArray(f[key]) ? (f[key] as unknown[]) : []);
    const fileEntries = list('entries')
      .slice(0, Math.max(0, MAX_ENTRIES - entries))
      .flatMap((e): ReportEntry[] => {
        if (!isObject(e) || count(e['index']) === undefined || count(e['line']) === undefined) return [];
        return [
          {
            index: count(e['index'])!,
            line: count(e['line'])!,
            githubUsername: text(e['githubUsername']),
            valid: e['valid'] === true,
            changed: typeof e['changed'] === 'boolean' ? e['changed'] : undefined,
          },
        ];
      });
    entries += fileEntries.length;
    return [{ file, entries: fileEntries, findings: list('findings').flatMap((x) => readFinding(x, file) ?? []) }];
  });
  return withinFindingBudget(files);
}

/**
 * At most MAX_FINDINGS findings in all, chosen by severity: warnings a student can write by
 * the thousand (unknown keys) must never push an error out of the verdict.
 */
function withinFindingBudget(files: ReportFile[]): ReportFile[] {
  const all = files.flatMap((f) => f.findings);
  if (all.length <= MAX_FINDINGS) return files;
  const kept = new Set([...all].sort(bySeverity).slice(0, MAX_FINDINGS));
  return files.map((f) => ({ ...f, findings: f.findings.filter((x) => kept.has(x)) }));
}
