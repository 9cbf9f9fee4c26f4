/**
 * Reading roster files for the commands that take paths, and judging them as `validate`
 * and `pr-report` both do: the one pipeline, then, for a pull request, only its changes.
 */
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, loadConfig, type ClassopsConfig } from '../config.js';
import { interpretRosters, type ImageVerifier } from '../pipeline/interpret.js';
import { ImageChecker } from '../registry/checker.js';
import { judgeChanges, judgeConfigChange, judgeRemovedFile } from '../roster/changes.js';
import type { RosterReport } from '../roster/model.js';
import { validateRoster } from '../roster/validate.js';
import { collectRosterFiles, SourceError, type RosterListing } from '../source/dir.js';
import { readFileAtRevision, rosterFilesAtRevision } from '../source/git.js';

/** Each listed file's bytes, by path, in the order given, and the paths the listing refused. */
export function readRosterFiles(listing: RosterListing): {
  files: Map<string, Buffer>;
  unreadable: ReadonlyMap<string, string>;
} {
  return { files: new Map(listing.files.map((file) => [file, readFileSync(file)])), unreadable: listing.problems };
}

/** File texts by name, for showing the offending line under a finding. */
export function sourcesOf(files: ReadonlyMap<string, Buffer>): Map<string, string> {
  return new Map([...files].map(([file, bytes]) => [file, bytes.toString('utf8')]));
}

/** The image checker, when the command was asked to check images. */
export function imageCheckerFor(config: ClassopsConfig, check: boolean | undefined): ImageVerifier | undefined {
  return check ? new ImageChecker(config.registry) : undefined;
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
 * The same files at the base revision, through the same pipeline, so that a problem the
 * base already had (a namespace conflict, say) is not blamed on the pull request.
 */
async function baseReports(
  current: readonly RosterReport[],
  config: ClassopsConfig,
  since: string,
): Promise<Map<string, RosterReport>> {
  const files = new Map<string, Buffer>();
  for (const report of current) {
    const before = await readFileAtRevision(report.file, since);
    if (before !== undefined) files.set(report.file, before);
  }
  const { reports } = await interpretRosters({ files, config });
  return new Map(reports.map((r) => [r.file, r]));
}

/** In a repository the git source reads only regular files: a link there is judged as it will be read. */
function withoutSymlinks(listing: RosterListing): RosterListing {
  const links = listing.files.filter((file) => lstatSync(file).isSymbolicLink());
  if (links.length === 0) return listing;
  return {
    files: listing.files.filter((file) => !links.includes(file)),
    problems: new Map([
      ...listing.problems,
      ...links.map(
        (file) => [file, 'it is a symbolic link; in the repository classops reads only regular files'] as const,
      ),
    ]),
  };
}

/** Roster files the base had in the judged folders and the pull request deletes (or renames away). */
async function removedFiles(
  paths: readonly string[],
  files: ReadonlyMap<string, Buffer>,
  config: ClassopsConfig,
  options: JudgeOptions,
): Promise<RosterReport[]> {
  const now = new Set([...files.keys()].map((f) => resolve(f)));
  const removed: RosterReport[] = [];
  for (const folder of paths.filter((p) => statSync(p).isDirectory())) {
    for (const file of await rosterFilesAtRevision(folder, options.since!)) {
      if (now.has(resolve(file))) continue;
      const before = await readFileAtRevision(file, options.since!);
      const entries = before === undefined ? 0 : validateRoster(file, before, config.policy).entries.length;
      const report = judgeRemovedFile(file, entries, {
        author: options.author,
        instructors: config.policy.instructors,
      });
      if (report !== undefined) removed.push(report);
    }
  }
  return removed;
}

/**
 * What `validate` and `pr-report` both decide: every roster through the pipeline, and
 * with `since`, judged as a pull request (only its own changes can fail it).
 */
export async function judgeRosters(
  options: JudgeOptions,
): Promise<{ config: ClassopsConfig; reports: RosterReport[]; sources: Map<string, string> }> {
  const { config, change } = await configAt(options);
  const paths = options.paths.length > 0 ? options.paths : [config.source.path];
  const listing = collectRosterFiles(paths);
  const { files, unreadable } = readRosterFiles(options.since === undefined ? listing : withoutSymlinks(listing));
  const { reports: checked } = await interpretRosters({
    files,
    unreadable,
    config,
    images: imageCheckerFor(config, options.checkImages),
  });
  const reports: RosterReport[] = [];
  const base = options.since === undefined ? undefined : await baseReports(checked, config, options.since);
  for (const report of checked) {
    if (base === undefined) {
      reports.push(report);
      continue;
    }
    const changes = { author: options.author, instructors: config.policy.instructors };
    reports.push(judgeChanges(report, base.get(report.file), changes));
  }
  if (change !== undefined) reports.push(change);
  if (options.since !== undefined) reports.push(...(await removedFiles(paths, files, config, options)));
  return { config, reports, sources: sourcesOf(files) };
}
