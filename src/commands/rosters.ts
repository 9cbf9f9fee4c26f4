/** Reading and validating roster files: what every roster-consuming command starts with. */
import { existsSync, readFileSync } from 'node:fs';
import {
  DEFAULT_CONFIG_FILE,
  loadConfig,
  type ClassopsConfig,
  type PolicyConfig,
  type RegistryConfig,
} from '../config.js';
import { judgeChanges, judgeConfigChange } from '../roster/changes.js';
import { collectRosterFiles, SourceError } from '../source/dir.js';
import { readFileAtRevision } from '../source/git.js';
import { ImageChecker } from '../registry/checker.js';
import { imagesToCheck, withImageVerdicts } from '../registry/findings.js';
import type { Verdict } from '../registry/verdict.js';
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

export interface JudgeOptions {
  /** Roster files or folders; empty means the configured source folder. */
  readonly paths: readonly string[];
  /** --config, or undefined for ./classops.yaml when present. */
  readonly configFile: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  /** The base revision of a pull request: only what changed since can fail. */
  readonly since: string | undefined;
  /** The PR's author, for the ownership rules. */
  readonly author: string | undefined;
  readonly checkImages: boolean;
}

/**
 * The config a pull request is judged by: the base revision's, when the file is in the
 * repository, so a PR cannot loosen the rules that judge it. A change to it is reported.
 */
async function configAt(options: JudgeOptions): Promise<{ config: ClassopsConfig; change: RosterReport | undefined }> {
  const current = loadConfig({ file: options.configFile, env: options.env });
  if (options.since === undefined) return { config: current, change: undefined };
  const file = options.configFile ?? DEFAULT_CONFIG_FILE;
  let before: Buffer | undefined;
  try {
    before = await readFileAtRevision(file, options.since);
  } catch (error) {
    // A config kept outside the repository is the instructor's, not the PR's.
    if (error instanceof SourceError && /not inside a git repository/.test(error.message))
      return { config: current, change: undefined };
    throw error;
  }
  const config = loadConfig({ file, contents: before?.toString('utf8') ?? '', env: options.env });
  const after = existsSync(file) ? readFileSync(file) : undefined;
  const change = judgeConfigChange(file, before, after, {
    author: options.author,
    instructors: config.policy.instructors,
  });
  return { config, change };
}

/**
 * What `validate` and `pr-report` both decide: every roster checked, and with `since`,
 * judged as a pull request (only its own changes can fail it).
 */
export async function judgeRosters(
  options: JudgeOptions,
): Promise<{ config: ClassopsConfig; reports: RosterReport[]; sources: Map<string, string> }> {
  const { config, change } = await configAt(options);
  const files = collectRosterFiles(options.paths.length > 0 ? options.paths : [config.source.path]);
  const rosters = loadRosters(files, config.policy);
  const checked = options.checkImages
    ? (
        await checkRosterImages(
          rosters.map((r) => r.report),
          config.registry,
        )
      ).reports
    : rosters.map((r) => r.report);
  const reports: RosterReport[] = [];
  for (const report of checked) {
    if (options.since === undefined) {
      reports.push(report);
      continue;
    }
    const before = await readFileAtRevision(report.file, options.since);
    const base = before === undefined ? undefined : validateRoster(report.file, before, config.policy);
    reports.push(judgeChanges(report, base, { author: options.author, instructors: config.policy.instructors }));
  }
  if (change !== undefined) reports.push(change);
  return { config, reports, sources: sourcesOf(rosters) };
}
