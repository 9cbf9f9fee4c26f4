/** Roster files on the local file system: a folder's week files, or files named directly. */
import { readdirSync, readFileSync, statSync, watch as watchFs } from 'node:fs';
import { join } from 'node:path';
import { contentHash } from '../canonical.js';
import type { Snapshot, Source } from './index.js';

export const ROSTER_FILE = /\.ya?ml$/;

export class SourceError extends Error {
  override readonly name = 'SourceError';
}

/** Expands folders to the YAML files directly inside them, sorted; files are kept as given. */
export function collectRosterFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new SourceError(`${path}: no such file or folder`);
    }
    if (!isDir) {
      files.push(path);
      continue;
    }
    const inside = readdirSync(path, { withFileTypes: true })
      .filter((d) => d.isFile() && ROSTER_FILE.test(d.name))
      .map((d) => join(path, d.name))
      .sort();
    files.push(...inside);
  }
  return files;
}

/** A revision for files that have no commit: a hash of their names and contents. */
export function contentRevision(files: Iterable<readonly [string, Buffer]>): string {
  return `content-${contentHash([...files].map(([f, b]) => [f, b.toString('base64')])).slice(0, 16)}`;
}

/** A local folder: file-system events, plus a periodic rescan for file systems that miss them. */
export class DirSource implements Source {
  readonly description: string;

  constructor(
    private readonly path: string,
    private readonly rescanMs: number,
  ) {
    this.description = `folder ${path}`;
  }

  async snapshot(): Promise<Snapshot> {
    const files = new Map<string, Buffer>();
    for (const file of collectRosterFiles([this.path])) files.set(file, readFileSync(file));
    return { revision: contentRevision(files), files };
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
