/** Reading a repository through the real git CLI. */
import { execFile } from 'node:child_process';
import { basename, dirname, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { SourceError } from './dir.js';

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
