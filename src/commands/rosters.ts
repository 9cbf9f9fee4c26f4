/**
 * Reading roster files for the commands that take paths, and judging them as `validate`
 * and `pr-report` both do: the one pipeline, then, for a pull request, only its changes.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, loadConfig, type ClassopsConfig } from '../config.js';
import { interpretRosters, type ImageVerifier } from '../pipeline/interpret.js';
import { ImageChecker } from '../registry/checker.js';
import {
  judgeChanges,
  judgeConfigChange,
  judgeGrowth,
  judgeOtherChange,
  judgeRemovedFile,
  type ChangeOptions,
} from '../roster/changes.js';
import type { RosterReport } from '../roster/model.js';
import { validateRoster } from '../roster/validate.js';
import {
  collectRosterFiles,
  inside,
  isRosterFileName,
  readRosterFiles,
  SourceError,
  type RosterListing,
} from '../source/dir.js';
import {
  changedSince,
  isRegularFileMode,
  nearestFolder,
  physical,
  readFileAtRevision,
  type ChangedPath,
} from '../source/git.js';

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
 * repository, so a PR cannot loosen the rules that judge it (the PR's own is never read).
 * `inRepository` is its absolute path then, to see whether the PR changes it.
 */
async function configAt(options: JudgeOptions): Promise<{ config: ClassopsConfig; inRepository?: string }> {
  const current = () => loadConfig({ file: options.configFile, env: options.env });
  if (options.since === undefined) return { config: current() };
  const file = options.configFile ?? DEFAULT_CONFIG_FILE;
  let before: Buffer | undefined;
  try {
    before = await readFileAtRevision(file, options.since, { followLink: true });
  } catch (error) {
    // A config kept outside the repository is the instructor's, not the PR's.
    if (error instanceof SourceError && /not inside a git repository/.test(error.message)) return { config: current() };
    throw error;
  }
  const config = loadConfig({ file, contents: before?.toString('utf8') ?? '', env: options.env });
  return { config, inRepository: resolve(file) };
}

/** A file's size with CRLF counted as one byte: line endings a checkout or editor adds are no one's writing. */
function sizeOf(bytes: Buffer): number {
  let crlf = 0;
  for (let i = bytes.indexOf('\r\n'); i !== -1; i = bytes.indexOf('\r\n', i + 2)) crlf += 1;
  return bytes.length - crlf;
}

/**
 * The same files at the base revision, through the same pipeline, so that a problem the
 * base already had (a namespace conflict, say) is not blamed on the pull request.
 */
async function baseReports(
  current: readonly RosterReport[],
  config: ClassopsConfig,
  since: string,
): Promise<{ reports: Map<string, RosterReport>; sizes: Map<string, number> }> {
  const files = new Map<string, Buffer>();
  for (const report of current) {
    const before = await readFileAtRevision(report.file, since);
    if (before !== undefined) files.set(report.file, before);
  }
  const { reports } = await interpretRosters({ files, config });
  return {
    reports: new Map(reports.map((r) => [r.file, r])),
    sizes: new Map([...files].map(([file, bytes]) => [file, sizeOf(bytes)])),
  };
}

/** In a repository the git source reads only regular files: a link there is judged as it will be read. */
function withoutSymlinks(listing: RosterListing): RosterListing {
  const links = listing.files.filter((file) => lstatSync(file).isSymbolicLink());
  if (links.length === 0) return listing;
  return {
    ...listing,
    files: listing.files.filter((file) => !links.includes(file)),
    problems: new Map([
      ...listing.problems,
      ...links.map(
        (file) => [file, 'it is a symbolic link; in the repository classops reads only regular files'] as const,
      ),
    ]),
  };
}

/** What a pull request changes, from git's diff: its roster files (by physical path), the config, the rest. */
interface PullRequestChanges {
  /** Every changed path (physical), for whether a file or a folder is touched. */
  readonly paths: readonly string[];
  readonly rosters: ReadonlyMap<string, ChangedPath>;
  readonly config: ChangedPath | undefined;
  readonly other: readonly ChangedPath[];
}

/** Sorts what the PR changes: roster files directly in a judged folder (or judged files), the config, the rest. */
async function pullRequestChanges(
  judged: { readonly folders: readonly string[]; readonly paths: readonly string[] },
  configInRepository: string | undefined,
  since: string,
): Promise<PullRequestChanges> {
  const folders = new Set(judged.folders.map(physical));
  const files = new Set(judged.paths.map(physical));
  const configPath = configInRepository === undefined ? undefined : physical(configInRepository);
  const isRoster = (change: ChangedPath) =>
    isRosterFileName(change.name) && (folders.has(dirname(change.path)) || files.has(change.path));
  const rosters = new Map<string, ChangedPath>();
  const other: ChangedPath[] = [];
  let config: ChangedPath | undefined;
  // Untracked files count only as roster files, which validate reads from the work tree anyway.
  // git runs in a judged folder (the repository's root may be one), else beside the first judged file.
  const where = nearestFolder(resolve(judged.folders[0] ?? dirname(resolve(judged.paths[0] ?? '.'))));
  const all = (await changedSince(where, since)).filter((c) => !c.untracked || isRoster(c));
  for (const change of all) {
    if (change.path === configPath) config = change;
    else if (isRoster(change) && (change.status === 'D' || isRegularFileMode(change.mode)))
      rosters.set(change.path, change);
    else other.push(change);
  }
  return { paths: all.map((c) => c.path), rosters, config, other };
}

/** Whether nothing is at the path (a link that leads nowhere is there). */
function isMissing(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Roster files the pull request deletes (or renames away), named as the judged folder names them. */
async function removedFiles(
  changes: PullRequestChanges,
  folders: readonly string[],
  config: ClassopsConfig,
  since: string,
  judge: ChangeOptions,
): Promise<RosterReport[]> {
  const byPhysical = new Map(folders.map((f) => [physical(f), f]));
  const removed: RosterReport[] = [];
  for (const change of changes.rosters.values()) {
    if (change.status !== 'D') continue;
    const folder = byPhysical.get(dirname(change.path));
    const file = folder === undefined ? change.name : join(folder, basename(change.path));
    const before = await readFileAtRevision(file, since);
    const entries = before === undefined ? 0 : validateRoster(file, before, config.policy).entries.length;
    const report = judgeRemovedFile(file, entries, judge);
    if (report !== undefined) removed.push(report);
  }
  return removed;
}

/**
 * Judged folders that are not read: a link (it could lead anywhere, and the git source reads
 * none), or a folder below the working folder that a link in its path leads out of it (a
 * pull request can plant either, and validate would print the lines of what it reaches).
 */
function refusedFolders(paths: readonly string[]): Map<string, string> {
  const cwd = realpathSync(process.cwd());
  const refused = new Map<string, string>();
  for (const path of paths) {
    const trimmed = path.length > 1 ? path.replace(/[\\/]+$/, '') : path;
    let real: string;
    try {
      if (lstatSync(trimmed).isSymbolicLink()) {
        refused.set(path, 'it is a symbolic link; classops judges a roster folder only where it is');
        continue;
      }
      real = realpathSync(trimmed);
    } catch {
      continue; // not there, or not to be looked at: reading it says which, in words
    }
    if (inside(cwd, resolve(cwd, trimmed)) && !inside(cwd, real))
      refused.set(path, 'a symbolic link in its path leads out of the working folder, where classops does not read');
  }
  return refused;
}

/**
 * What `validate` and `pr-report` both decide: every roster through the pipeline, and
 * with `since`, judged as a pull request (only its own changes can fail it).
 */
export async function judgeRosters(
  options: JudgeOptions,
): Promise<{ config: ClassopsConfig; reports: RosterReport[]; sources: Map<string, string> }> {
  const { config, inRepository } = await configAt(options);
  const paths = options.paths.length > 0 ? options.paths : [config.source.path];
  const linked = refusedFolders(paths);
  // git keeps no empty folder: one whose last file a pull request deletes is gone from the
  // checkout, and is judged as empty once the diff shows the deletion (below).
  const gone = options.since === undefined ? [] : paths.filter((p) => !linked.has(p) && isMissing(p));
  const readable = paths.filter((p) => !linked.has(p) && !gone.includes(p));
  const listing = collectRosterFiles(readable);
  const { files, problems: unreadable } = readRosterFiles(
    options.since === undefined ? listing : withoutSymlinks(listing),
    config.policy.limits.maxFileBytes,
  );
  const { reports: checked } = await interpretRosters({
    files,
    unreadable: new Map([...linked, ...unreadable]),
    config,
    images: imageCheckerFor(config, options.checkImages),
  });
  if (options.since === undefined) return { config, reports: [...checked], sources: sourcesOf(files) };

  const since = options.since;
  const judge = { author: options.author, instructors: config.policy.instructors };
  const folders = [...readable.filter((p) => statSync(p).isDirectory()), ...gone];
  const changes = await pullRequestChanges({ folders, paths }, inRepository, since);
  for (const path of gone) {
    const at = physical(path);
    const removed = [...changes.rosters.values()].some(
      (c) => c.status === 'D' && (c.path === at || dirname(c.path) === at),
    );
    if (!removed) throw new SourceError(`${path}: no such file or folder`);
  }
  const base = await baseReports(checked, config, since);
  const reports = checked.map((report) => {
    if (linked.has(report.file)) return report; // its link is the PR's change, reported below
    const file = physical(report.file);
    const touched = changes.paths.some((p) => inside(file, p));
    const judged = judgeChanges(report, base.reports.get(report.file), judge, touched);
    const current = files.get(report.file);
    if (!touched || current === undefined) return judged;
    const size = { before: base.sizes.get(report.file) ?? 0, after: sizeOf(current) };
    return judgeGrowth(judged, size, config.policy.limits.maxGrowthBytes, judge);
  });
  const configReport = judgeConfigChange(options.configFile ?? DEFAULT_CONFIG_FILE, changes.config, judge);
  if (configReport !== undefined) reports.push(configReport);
  for (const change of changes.other) {
    const report = judgeOtherChange(change, judge);
    if (report !== undefined) reports.push(report);
  }
  reports.push(...(await removedFiles(changes, folders, config, since, judge)));
  return { config, reports, sources: sourcesOf(files) };
}
