/** Reading a repository through the real git CLI. */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ROSTER_FILE, SourceError } from './dir.js';
import type { Snapshot, Source } from './index.js';

const run = promisify(execFile);
const MAX_OUTPUT = 64 * 1024 * 1024;

async function git(cwd: string, args: string[]): Promise<Buffer> {
  const { stdout } = await run('git', args, { cwd, encoding: 'buffer', maxBuffer: MAX_OUTPUT });
  return stdout;
}

/**
 * A file's bytes at a revision (branch, tag or SHA), or undefined when the file did not
 * exist there. Throws SourceError when the file is outside a repository or the revision is unknown.
 */
export async function readFileAtRevision(file: string, revision: string): Promise<Buffer | undefined> {
  const absolute = resolve(file);
  const cwd = dirname(absolute);
  let top: string;
  try {
    top = (await git(cwd, ['rev-parse', '--show-toplevel'])).toString('utf8').trim();
  } catch {
    throw new SourceError(`${file} is not inside a git repository, so it cannot be compared with ${revision}`);
  }
  try {
    await git(cwd, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  } catch {
    throw new SourceError(`unknown git revision "${revision}" (fetch it first, e.g. git fetch origin ${revision})`);
  }
  const path = relative(top, absolute).split('\\').join('/') || basename(absolute);
  try {
    await git(top, ['cat-file', '-e', `${revision}:${path}`]);
  } catch {
    return undefined;
  }
  return git(top, ['cat-file', 'blob', `${revision}:${path}`]);
}

export interface GitSourceOptions {
  readonly url: string;
  readonly branch: string;
  /** The roster folder inside the repository. */
  readonly path: string;
  /** Where the mirror is kept between fetches. */
  readonly cacheDir: string;
  readonly tokenFile: string;
  readonly sshKeyFile: string;
  readonly pollMs: number;
}

/**
 * Any git repository through the real git CLI: a bare mirror cloned once and fetched
 * after; the snapshot reads the roster files from the fetched commit, never from a
 * work tree, so a half-done fetch is never seen.
 */
export class GitSource implements Source {
  readonly description: string;
  private cloned = false;

  constructor(private readonly options: GitSourceOptions) {
    this.description = `git ${options.url} (${options.branch}, ${options.path})`;
  }

  /** Credentials go through git's environment, never its arguments, which other processes can read. */
  private authEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0' };
    if (this.options.tokenFile) {
      const token = readFileSync(this.options.tokenFile, 'utf8').trim();
      const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
      Object.assign(env, {
        GIT_CONFIG_COUNT: '1',
        GIT_CONFIG_KEY_0: 'http.extraHeader',
        GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
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
        env: { ...process.env, ...this.authEnv() },
        timeout: 120_000,
      });
      return stdout;
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8').trim();
      // git prints URLs, not headers; the message never holds the token.
      throw new SourceError(`git ${args[0]} failed for ${this.options.url}: ${stderr || (error as Error).message}`);
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
        this.options.url,
        `+refs/heads/${this.options.branch}:refs/classops/source`,
      ],
      mirror,
    );
    const revision = (await this.git(['rev-parse', 'refs/classops/source^{commit}'], mirror)).toString('utf8').trim();
    const folder = this.options.path.replace(/^\.?\/+|\/+$/g, '');
    const listing = (await this.git(['ls-tree', '--name-only', revision, `${folder}/`], mirror)).toString('utf8');
    const files = new Map<string, Buffer>();
    for (const name of listing
      .split('\n')
      .filter((n) => ROSTER_FILE.test(n))
      .sort()) {
      files.set(name, await this.git(['cat-file', 'blob', `${revision}:${name}`], mirror));
    }
    return { revision, files };
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
