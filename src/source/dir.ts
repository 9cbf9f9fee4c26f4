/** Roster files on the local file system: a folder's week files, or files named directly. */
import { isUtf8 } from 'node:buffer';
import { lstatSync, readdirSync, realpathSync, statSync, watch as watchFs } from 'node:fs';
import { basename, join, sep } from 'node:path';
import { contentHash } from '../canonical.js';
import { DEFAULT_CONFIG_FILE } from '../config.js';
import { readRegularFile, type FileIdentity } from '../regular-file.js';
import type { Snapshot, Source } from './index.js';

/**
 * Whether a file (a name, or a path whose last part counts) is read as a roster: `*.yaml` or
 * `*.yml` in any case (a week renamed to .YAML must not vanish, and its students with it), but
 * not a ConfigMap volume's own `..` entries, nor the course's `classops.yaml` in a roster
 * folder that is the repository's root. Every source lists files by this.
 */
export const isRosterFileName = (name: string): boolean =>
  /\.ya?ml$/i.test(name) && !basename(name).startsWith('..') && basename(name) !== DEFAULT_CONFIG_FILE;

export class SourceError extends Error {
  override readonly name = 'SourceError';
}

/** What a folder holds for classops: the roster files to read, and those it refuses and why. */
export interface RosterListing {
  /** Files to read, as shown to users: named ones as given, then each folder's, sorted. */
  readonly files: readonly string[];
  /** Path → why it is not read, in plain words; a file-level error for that path. */
  readonly problems: ReadonlyMap<string, string>;
  /** For a folder's files, the file each led to when listed: the read must open that one. */
  readonly identities?: ReadonlyMap<string, FileIdentity>;
}

/** Whether `path` is `folder` or below it (both absolute, links resolved alike). */
export const inside = (folder: string, path: string): boolean =>
  path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/**
 * The roster files directly inside a folder. Symbolic links are followed when they stay
 * inside the folder, as a ConfigMap volume lays files out (week-01.yaml → ..data/week-01.yaml,
 * ..data → ..2026_11_23_…); the kubelet's own `..` entries are skipped; a link leading
 * outside is refused unread, and a name that is not UTF-8 is a problem for that file only.
 */
function listFolder(
  folder: string,
  files: string[],
  problems: Map<string, string>,
  identities: Map<string, FileIdentity>,
): void {
  const real = realpathSync(folder);
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true, encoding: 'buffer' })) {
    const name = entry.name.toString('utf8');
    if (!isRosterFileName(name)) continue;
    const path = join(folder, name);
    if (!isUtf8(entry.name)) {
      problems.set(path, 'its name is not valid UTF-8 text; rename it to week-NN.yaml');
      continue;
    }
    if (entry.isDirectory()) {
      problems.set(path, 'it is a folder, not a file');
      continue;
    }
    if (!entry.isSymbolicLink()) {
      // Not followed: a file swapped for a link after this is another file when read.
      const stat = lstatSync(path, { throwIfNoEntry: false });
      if (stat !== undefined) identities.set(path, stat);
      found.push(path); // a named pipe or device is refused when read, not skipped as if it were gone
      continue;
    }
    let target: string;
    try {
      target = realpathSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      problems.set(
        path,
        code === 'ELOOP'
          ? 'it is a symbolic link that leads round in a loop'
          : code === 'EACCES'
            ? 'it is a symbolic link classops is not allowed to follow (permission denied)'
            : 'it is a symbolic link to a file that does not exist',
      );
      continue;
    }
    if (!inside(real, target)) {
      problems.set(path, `it is a symbolic link to a place outside ${folder}, which classops never reads`);
      continue;
    }
    const stat = statSync(target);
    if (stat.isDirectory()) problems.set(path, 'it is a symbolic link to a folder, not a file');
    else {
      identities.set(path, stat);
      found.push(path);
    }
  }
  files.push(...found.sort());
}

/** Expands folders to the roster files directly inside them; files named directly are kept as given. */
export function collectRosterFiles(paths: readonly string[]): RosterListing {
  const files: string[] = [];
  const problems = new Map<string, string>();
  const identities = new Map<string, FileIdentity>();
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
      if (isDir) listFolder(path, files, problems, identities);
    } catch (error) {
      throw new SourceError(`${path}: ${folderFailure(error, path)}`);
    }
    if (!isDir) files.push(path);
  }
  return { files, problems, identities };
}

/** Why a path named as a roster or folder could not be looked at, in plain words. */
function folderFailure(error: unknown, path: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'no such file or folder';
  if (code === 'EACCES' || code === 'EPERM') {
    let folder = false;
    try {
      folder = statSync(path).isDirectory();
    } catch {
      // a folder above it shuts classops out too
    }
    return `classops is not allowed to ${folder ? 'list this folder' : 'look at it'} (permission denied); give the user it runs as read and search permission on it${folder ? '' : ' and the folders above it'}`;
  }
  if (code === 'ELOOP') return 'it is a symbolic link that leads round in a loop';
  return `it cannot be read (${code ?? (error as Error).message})`;
}

/** Why a file of a listing could not be read, in plain words. */
function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined) return (error as Error).message; // readRegularFile's own refusal
  if (code === 'EACCES' || code === 'EPERM') return 'classops is not allowed to read it (permission denied)';
  if (code === 'ENOENT') return 'it was removed while classops was reading the folder';
  return `it cannot be read (${code})`;
}

/**
 * The bytes of a listing's files, each read only when it is a regular file of at most
 * `maxBytes` (policy.limits.maxFileBytes); any other is one more problem, for that path only.
 */
export function readRosterFiles(
  listing: RosterListing,
  maxBytes: number,
): { files: Map<string, Buffer>; problems: Map<string, string> } {
  const files = new Map<string, Buffer>();
  const problems = new Map(listing.problems);
  for (const file of listing.files) {
    try {
      files.set(file, readRegularFile(file, maxBytes, listing.identities?.get(file)));
    } catch (error) {
      problems.set(file, readFailure(error));
    }
  }
  return { files, problems };
}

/** A revision for files that have no commit: a hash of their names and contents. */
export function contentRevision(files: Iterable<readonly [string, Buffer]>): string {
  return `content-${contentHash([...files].map(([f, b]) => [f, b.toString('base64')])).slice(0, 16)}`;
}

/**
 * How long a roster file must have been still before a watching controller reads it. One
 * rewritten in place that pauses at the end of a line (an editor, a generator) is a valid
 * roster without its later students, and a pass would prune them. Files that keep changing
 * are read as they are after MAX_SETTLE_MS; the mass-prune guard still stands then.
 */
export const SETTLE_MS = 2_000;
const MAX_SETTLE_MS = 30_000;

/** Milliseconds since the newest change to any of `files` (links followed). */
function stillFor(files: readonly string[]): number {
  const newest = Math.max(0, ...files.map((f) => statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0));
  return Date.now() - newest;
}

/** A local folder: file-system events, plus a periodic rescan for file systems that miss them. */
export class DirSource implements Source {
  readonly description: string;
  /** Handed out again while the contents are the same, so what was validated from it need not be again. */
  private last: Snapshot | undefined;

  constructor(
    private readonly path: string,
    private readonly rescanMs: number,
    /** policy.limits.maxFileBytes: larger files are refused unread. */
    private readonly maxFileBytes: number,
    /** SETTLE_MS for a watching controller; 0 for one pass asked for now (`run --once`). */
    private readonly settleMs = SETTLE_MS,
  ) {
    this.description = `folder ${path}`;
  }

  async snapshot(): Promise<Snapshot> {
    let listing = collectRosterFiles([this.path]);
    for (let waited = 0; waited < MAX_SETTLE_MS;) {
      const wait = this.settleMs - stillFor(listing.files);
      if (wait <= 0) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
      waited += wait;
      listing = collectRosterFiles([this.path]);
    }
    const { files, problems } = readRosterFiles(listing, this.maxFileBytes);
    // A problem changes the revision too, so a pass notices when a file becomes unreadable.
    const hashed = [...files, ...[...problems].map(([f, why]) => [f, Buffer.from(why)] as const)];
    const revision = contentRevision(hashed);
    if (this.last?.revision !== revision) this.last = { revision, files, problems };
    return this.last;
  }

  watch(onChange: () => void): () => void {
    let watcher: ReturnType<typeof watchFs> | undefined;
    try {
      watcher = watchFs(this.path, () => onChange());
      watcher.on('error', () => undefined); // the rescan still notices changes
    } catch {
      watcher = undefined;
    }
    const timer = setInterval(onChange, this.rescanMs);
    timer.unref();
    return () => {
      watcher?.close();
      clearInterval(timer);
    };
  }
}
