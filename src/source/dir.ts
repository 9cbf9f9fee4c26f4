/** Roster files on the local file system: a folder's week files, or files named directly. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
