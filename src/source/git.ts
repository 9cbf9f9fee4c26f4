/** Reading a repository through the real git CLI. */
import { isUtf8 } from 'node:buffer';
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { hasUnencodedCredentials, redactUrl, redactUrls, splitCredentials } from './credentials.js';
import { overLimit } from '../regular-file.js';
import { isRosterFileName, SourceError } from './dir.js';
import type { Snapshot, Source } from './index.js';

const run = promisify(execFile);
const MAX_OUTPUT = 64 * 1024 * 1024;

/**
 * The environment of every git classops runs: paths are taken literally. A file a student
 * names `:week-02.yaml` is otherwise read by git as pathspec magic for `week-02.yaml`, and
 * its pull request judged as an edit of that file rather than a new one.
 */
function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { GIT_GLOB_PATHSPECS: _g, GIT_NOGLOB_PATHSPECS: _n, GIT_ICASE_PATHSPECS: _i, ...env } = process.env;
  return { ...env, ...extra, GIT_LITERAL_PATHSPECS: '1' };
}

async function git(cwd: string, args: string[]): Promise<Buffer> {
  const { stdout } = await run('git', args, { cwd, encoding: 'buffer', maxBuffer: MAX_OUTPUT, env: gitEnv() });
  return stdout;
}

/**
 * A path with its folder's links resolved, as git names places in the repository (the
 * last part is kept: a link there is judged as a link).
 */
export function physical(path: string): string {
  const absolute = resolve(path);
  // A folder a pull request emptied is gone from the checkout: resolve what is left above it.
  const rest = [basename(absolute)];
  for (let folder = dirname(absolute); ; folder = dirname(folder)) {
    try {
      return join(realpathSync(folder), ...rest);
    } catch {
      if (dirname(folder) === folder) return absolute;
      rest.unshift(basename(folder));
    }
  }
}

/** The nearest folder at or above `dir` that is there, for running git beside a deleted path. */
export function nearestFolder(dir: string): string {
  return existsSync(dir) || dirname(dir) === dir ? dir : nearestFolder(dirname(dir));
}

/** Git's mode of a symbolic link. */
const LINK_MODE = '120000';

/** Git modes of a regular file: what classops reads (a link, a folder or a submodule it does not). */
export const isRegularFileMode = (mode: string): boolean => mode === '100644' || mode === '100755';

/** The repository's top folder, or a SourceError naming what was asked. */
async function topLevel(cwd: string, what: string): Promise<string> {
  try {
    return (await git(cwd, ['rev-parse', '--show-toplevel'])).toString('utf8').trim();
  } catch {
    throw new SourceError(`${what} is not inside a git repository`);
  }
}

/**
 * A file's bytes at a revision (branch, tag or SHA), or undefined when the revision had no
 * file there. Throws SourceError when the file is outside a repository or the revision is unknown.
 */
export async function readFileAtRevision(
  file: string,
  revision: string,
  options: { readonly followLink?: boolean } = {},
): Promise<Buffer | undefined> {
  const absolute = physical(file);
  const cwd = nearestFolder(dirname(absolute));
  const top = await topLevel(cwd, file);
  try {
    await git(cwd, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  } catch {
    throw new SourceError(`unknown git revision "${revision}" (fetch it first, e.g. git fetch origin ${revision})`);
  }
  const path = relative(top, absolute).split('\\').join('/') || basename(absolute);
  const entryAt = async (at: string) => parseTree(await git(top, ['ls-tree', '-z', '-l', revision, '--', at]))[0];
  let entry = await entryAt(path);
  if (entry?.mode === LINK_MODE && options.followLink === true) {
    // One link, to a file inside the repository (as an instructor may keep the config elsewhere in it).
    const target = posix.normalize(
      posix.join(posix.dirname(path), (await git(top, ['cat-file', 'blob', entry.object])).toString('utf8')),
    );
    if (target === '..' || target.startsWith('../') || posix.isAbsolute(target))
      throw new SourceError(`${file} is a symbolic link out of the repository at ${revision}`);
    entry = await entryAt(target);
    if (entry === undefined || !isRegularFileMode(entry.mode))
      throw new SourceError(`${file} is a symbolic link to ${target}, which is not a file at ${revision}`);
  }
  // A link, a folder or a submodule is no file the revision had.
  return entry !== undefined && isRegularFileMode(entry.mode)
    ? git(top, ['cat-file', 'blob', entry.object])
    : undefined;
}

/**
 * When the work tree's HEAD is the merge of `head` into a base (the commit actions/checkout
 * checks out for a pull request), that base: what the merge was made from, whatever the
 * event said the base was when it fired. Undefined otherwise.
 */
export async function mergedInto(cwd: string, head: string): Promise<string | undefined> {
  try {
    const [first, second] = (await git(resolve(cwd), ['rev-parse', 'HEAD^1', 'HEAD^2'])).toString('utf8').split('\n');
    return second === head ? first : undefined;
  } catch {
    return undefined; // no second parent: not a merge
  }
}

/** A path a pull request changes, compared with its base. */
export interface ChangedPath {
  /** Absolute, as the file system names it. */
  readonly path: string;
  /** As the repository names it, for messages. */
  readonly name: string;
  /** git's letter: A added, D deleted, M modified, T changed in type (a file made a link, say). */
  readonly status: string;
  /** The git mode after the change: 100644 or 100755 for a file, 120000 a link, 160000 a submodule; 000000 when deleted. */
  readonly mode: string;
  /** Not known to git yet: in no commit, so in no pull request unless it is added. */
  readonly untracked: boolean;
}

/** A file's git mode as `git add` would record it. */
function modeOf(path: string): string {
  const stat = lstatSync(path);
  return stat.isSymbolicLink() ? LINK_MODE : (stat.mode & 0o111) !== 0 ? '100755' : '100644';
}

/**
 * Every path that differs between `revision` and the work tree of the repository holding
 * `cwd`, wherever it is in the repository: the commits of a pull request, edits to files
 * git tracks, and files it does not track yet (marked, as CI may write its own files into
 * the checkout). Renames are a deletion and an addition.
 */
export async function changedSince(cwd: string, revision: string): Promise<ChangedPath[]> {
  const top = await topLevel(resolve(cwd), cwd);
  const raw = await git(top, ['diff', '--raw', '-z', '--no-renames', '--no-ext-diff', revision, '--']);
  // Each change is ":<old mode> <new mode> <old sha> <new sha> <status>\0<path>\0".
  const fields = raw.toString('utf8').split('\0');
  const changes: ChangedPath[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [, mode = '', , , status = 'M'] = fields[i]!.slice(1).split(' ');
    const name = fields[i + 1]!;
    changes.push({ path: join(top, name), name, status, mode, untracked: false });
  }
  const untracked = await git(top, ['ls-files', '-z', '--others', '--exclude-standard']);
  for (const name of untracked
    .toString('utf8')
    .split('\0')
    .filter((n) => n !== ''))
    changes.push({ path: join(top, name), name, status: 'A', mode: modeOf(join(top, name)), untracked: true });
  return changes;
}

export interface GitSourceOptions {
  /** The repository; credentials in it (https://user:TOKEN@host/…) go to git through its environment. */
  readonly url: string;
  readonly branch: string;
  /** The roster folder inside the repository. */
  readonly path: string;
  /** Where the mirror is kept between fetches. */
  readonly cacheDir: string;
  readonly tokenFile: string;
  readonly sshKeyFile: string;
  readonly pollMs: number;
  /** Blobs larger than this are refused unread (policy.limits.maxFileBytes; default 1 MiB). */
  readonly maxFileBytes?: number;
}

const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;

/** One entry of `git ls-tree -z -l`: `<mode> <type> <object> <size>\t<path>`, the path as raw bytes. */
interface TreeEntry {
  readonly mode: string;
  readonly type: string;
  readonly object: string;
  readonly size: number;
  readonly path: Buffer;
}

function parseTree(output: Buffer): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (let start = 0; start < output.length;) {
    const end = output.indexOf(0, start);
    const record = output.subarray(start, end === -1 ? output.length : end);
    start = end === -1 ? output.length : end + 1;
    const tab = record.indexOf(9);
    if (tab === -1) continue;
    const [mode = '', type = '', object = '', size = '-'] = record.subarray(0, tab).toString('latin1').split(/ +/);
    entries.push({ mode, type, object, size: size === '-' ? 0 : Number(size), path: record.subarray(tab + 1) });
  }
  return entries;
}

/** Why an entry named *.yaml is not read, or undefined when it is a regular file within the cap. */
function refusal(entry: TreeEntry, maxFileBytes: number): string | undefined {
  if (!isUtf8(entry.path)) return 'its name is not valid UTF-8 text; rename it to week-NN.yaml';
  if (entry.type === 'tree') return 'it is a folder, not a file';
  if (entry.type === 'commit') return 'it is a git submodule, not a file';
  if (entry.mode === LINK_MODE) return 'it is a symbolic link, which classops does not follow in a repository';
  if (entry.type !== 'blob') return `it is a git ${entry.type}, not a file`;
  if (entry.size > maxFileBytes) return overLimit(entry.size, maxFileBytes);
  return undefined;
}

/**
 * Any git repository through the real git CLI: a bare mirror cloned once and fetched
 * after; the snapshot reads the roster files from the fetched commit, never from a
 * work tree, so a half-done fetch is never seen.
 */
export class GitSource implements Source {
  readonly description: string;
  private cloned = false;
  /** The URL handed to git: without the credentials, which go through authEnv. */
  private readonly url: string;
  private readonly urlBasic: string | undefined;
  /** A commit's files never change: a poll that finds the same commit reads nothing more. */
  private last: Snapshot | undefined;

  constructor(private readonly options: GitSourceOptions) {
    // git would read a URL starting with "-" as an option, whatever "--" comes before it in one command or another.
    if (options.url.startsWith('-'))
      throw new SourceError(`source.url may not begin with "-": ${redactUrl(options.url)}`);
    if (hasUnencodedCredentials(options.url))
      throw new SourceError(
        `source.url ${redactUrl(options.url)}: its password holds a "/", "?" or "#"; percent-encode them (%2F, %3F, %23)`,
      );
    ({ url: this.url, basic: this.urlBasic } = splitCredentials(options.url));
    this.description = `git ${redactUrl(options.url)} (${options.branch}, ${options.path})`;
  }

  /** The token and URL credentials, to scrub from anything git prints (git prints URLs, not headers, but be sure). */
  private secrets(): string[] {
    const token = this.options.tokenFile ? readFileSync(this.options.tokenFile, 'utf8').trim() : '';
    const password = this.urlBasic?.slice(this.urlBasic.indexOf(':') + 1) ?? '';
    return [token, password, this.urlBasic ?? ''].filter((s) => s.length >= 4);
  }

  /** Credentials go through git's environment, never its arguments, which other processes can read. */
  private authEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0' };
    const basic = this.options.tokenFile
      ? `x-access-token:${readFileSync(this.options.tokenFile, 'utf8').trim()}`
      : this.urlBasic;
    if (basic !== undefined) {
      Object.assign(env, {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(basic).toString('base64')}`,
      });
    }
    if (this.options.sshKeyFile) {
      env['GIT_SSH_COMMAND'] =
        `ssh -i ${JSON.stringify(this.options.sshKeyFile)} -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new`;
    }
    return env;
  }

  private async git(args: string[], cwd?: string): Promise<Buffer> {
    try {
      const { stdout } = await run('git', args, {
        cwd,
        encoding: 'buffer',
        maxBuffer: MAX_OUTPUT,
        env: gitEnv(this.authEnv()),
        timeout: 120_000,
      });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8').trim();
      let message = redactUrls(
        `git ${args[0]} failed for ${redactUrl(this.options.url)}: ${stderr || (error as Error).message}`,
      );
      for (const secret of this.secrets()) message = message.split(secret).join('***');
      throw new SourceError(message);
    }
  }

  async snapshot(): Promise<Snapshot> {
    const mirror = this.options.cacheDir;
    if (!this.cloned) {
      mkdirSync(mirror, { recursive: true });
      if (!existsSync(join(mirror, 'HEAD'))) await this.git(['init', '--bare', '--quiet', mirror]);
      this.cloned = true;
    }
    await this.git(
      [
        'fetch',
        '--quiet',
        '--force',
        '--no-tags',
        '--',
        this.url,
        `+refs/heads/${this.options.branch}:refs/classops/source`,
      ],
      mirror,
    );
    const revision = (await this.git(['rev-parse', 'refs/classops/source^{commit}'], mirror)).toString('utf8').trim();
    if (this.last?.revision === revision) return this.last;
    const folder = this.options.path.replace(/^\.?\/+|\/+$/g, '');
    if (folder !== '') {
      // A renamed or deleted roster folder is not an empty roster: nothing may be pruned for it.
      const [self] = parseTree(await this.git(['ls-tree', '-z', '-l', revision, '--', folder], mirror));
      if (self?.type !== 'tree') {
        throw new SourceError(
          `the roster folder "${folder}" ${self === undefined ? 'does not exist' : 'is not a folder'} at commit ${revision.slice(0, 12)} of ${redactUrl(this.options.url)} (${this.options.branch}); nothing was changed`,
        );
      }
    }
    const listing = parseTree(
      await this.git(['ls-tree', '-z', '-l', revision, ...(folder === '' ? [] : ['--', `${folder}/`])], mirror),
    );
    const maxFileBytes = this.options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const files = new Map<string, Buffer>();
    const problems = new Map<string, string>();
    for (const entry of listing.sort((a, b) => Buffer.compare(a.path, b.path))) {
      const name = entry.path.toString('utf8');
      if (!isRosterFileName(name)) continue; // as the folder source lists them, so both read the same files
      const why = refusal(entry, maxFileBytes);
      if (why !== undefined) problems.set(name, why);
      else files.set(name, await this.git(['cat-file', 'blob', entry.object], mirror));
    }
    this.last = { revision, files, problems };
    return this.last;
  }

  /** A roster file's bytes at a fetched revision. */
  async readAt(file: string, revision: string): Promise<Buffer> {
    return this.git(['cat-file', 'blob', `${revision}:${file}`], this.options.cacheDir);
  }

  /**
   * The newest commit up to `revision` that changed lines `from`–`to` of `file`
   * (`git log -L` on the mirror): where a student's entry last changed, for commit statuses.
   */
  async lastCommitOf(file: string, from: number, to: number, revision: string): Promise<string | undefined> {
    const out = await this.git(
      ['log', '-1', '--format=%H', '-s', `-L${from},${to}:${file}`, revision],
      this.options.cacheDir,
    );
    return /^[0-9a-f]{40}$/m.exec(out.toString('utf8'))?.[0];
  }

  watch(onChange: () => void): () => void {
    const timer = setInterval(onChange, this.options.pollMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
