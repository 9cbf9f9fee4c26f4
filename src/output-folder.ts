import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Why `dir` cannot be an output folder, in words, or undefined when it can: it or one of
 * its parents is a file. Said before writing, so the user reads the path they gave rather
 * than an ENOTDIR on a staging path they never named.
 */
export function outputFolderProblem(dir: string): string | undefined {
  // An empty setting would be the working folder, whatever it holds.
  if (dir.trim() === '') return 'no folder is named (an empty setting); name one, e.g. out/manifests';
  for (let path = resolve(dir); ; path = dirname(path)) {
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat !== undefined)
      return stat.isDirectory()
        ? undefined
        : path === resolve(dir)
          ? 'it is a file, not a folder'
          : `${path} is a file, not a folder`;
    if (dirname(path) === path) return undefined;
  }
}
