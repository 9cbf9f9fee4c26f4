/**
 * Replacing the folder `classops render --out DIR` writes, without losing what anyone else
 * put there. The marker names every file the last render wrote, so a file added among them
 * (a ConfigMap for kustomize, notes, a .git) stops the render instead of being deleted.
 * The new tree is written beside DIR and swapped in by two renames, so a render killed at
 * any point leaves a whole tree under DIR (or, between the renames, DIR's old one beside it).
 * A folder that must stay itself (a mount point, which cannot be renamed, or the folder the
 * command runs in, which a shell there would lose) has its entries swapped one by one instead.
 */
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { outputFolderProblem } from '../output-folder.js';
import { clearScratch, MAX_MARKER_BYTES, scratchName, scratchOf } from './render-scratch.js';
import { readRegularFile } from '../regular-file.js';
import { RENDER_MARKER, RENDER_MARKER_HEADER } from '../render/tree.js';
import { UsageError } from './io.js';

const LISTING_HEADER = 'Files it wrote:\n';

function markerText(paths: Iterable<string>): string {
  return `${RENDER_MARKER_HEADER}${LISTING_HEADER}${[...paths].map((p) => `${p}\n`).join('')}`;
}

/** The files the render that wrote `marker` listed; undefined for a marker from before listings. */
function listedFiles(marker: string): Set<string> | undefined {
  const text = readRegularFile(marker, MAX_MARKER_BYTES).toString('utf8');
  const at = text.indexOf(LISTING_HEADER);
  if (at === -1) return undefined;
  return new Set(
    text
      .slice(at + LISTING_HEADER.length)
      .split('\n')
      .filter(Boolean),
  );
}

/**
 * What in `target` the last render did not write: with a listing, any path not in it; with
 * an older marker, anything but its own files and folders of YAML files.
 */
function foreignEntries(target: string, listed: Set<string> | undefined): string[] {
  const own = (path: string, isFile: boolean) =>
    isFile && (listed?.has(path) ?? (path.includes('/') ? path.endsWith('.yaml') : path === 'kustomization.yaml'));
  const foreign: string[] = [];
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.name === RENDER_MARKER && entry.isFile()) continue;
    // A render's scratch is its own; one only named so is the user's.
    if (isRenderScratch(target, entry.name)) continue;
    if (!entry.isDirectory()) {
      if (!own(entry.name, entry.isFile())) foreign.push(entry.name);
      continue;
    }
    const inside = readdirSync(join(target, entry.name), { withFileTypes: true });
    const strangers = inside.filter((file) => !own(`${entry.name}/${file.name}`, file.isFile()));
    // A folder holding nothing of the render's is named whole; an empty one loses nothing.
    if (strangers.length > 0 && strangers.length === inside.length) foreign.push(entry.name);
    else foreign.push(...strangers.map((file) => `${entry.name}/${file.name}`));
  }
  return foreign;
}

/** Writes the tree under `dir`, made new. */
function writeTree(dir: string, files: Iterable<readonly [string, string]>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** Whether an entry of DIR is a render's scratch (this one's, another's under way, or a killed one's). */
function isRenderScratch(target: string, name: string): boolean {
  const scratch = scratchOf(target, name, '');
  return scratch === 'live' || scratch === 'left';
}

/** The files in a rendered folder, but its marker and scratch: a render's tree is two levels deep. */
function presentFiles(target: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (isRenderScratch(target, entry.name)) continue;
    if (entry.isDirectory()) files.push(...readdirSync(join(target, entry.name)).map((f) => `${entry.name}/${f}`));
    else if (entry.name !== RENDER_MARKER) files.push(entry.name);
  }
  return files;
}

/** Whether DIR (its real path) must stay the folder it is: a mount point, or where this command runs. */
function staysInPlace(real: string, existing: Stats): boolean {
  return process.cwd() === real || lstatSync(dirname(real)).dev !== existing.dev;
}

/** A path with its links resolved, as the working folder is: of its parent when it is not there yet. */
function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

/**
 * Swaps the entries of `target` for the tree's, one rename each. The marker first lists the
 * files of both renders, so a render killed halfway leaves a folder the next one replaces.
 */
function replaceInside(target: string, files: ReadonlyMap<string, string>): void {
  const staging = join(target, scratchName('', 'new'));
  const aside = join(target, scratchName('', 'old'));
  const marker = (paths: Iterable<string>) => {
    const temporary = join(target, scratchName('', 'marker'));
    writeFileSync(temporary, markerText(paths));
    renameSync(temporary, join(target, RENDER_MARKER));
  };
  // Each scratch folder holds a marker from the start: a folder only named so is never taken for one.
  const scratchMarker = [RENDER_MARKER, markerText([])] as const;
  writeTree(staging, [scratchMarker, ...files]);
  marker(new Set([...presentFiles(target), ...files.keys()]));
  writeTree(aside, [scratchMarker]);
  const own = (name: string) => name === RENDER_MARKER || isRenderScratch(target, name);
  const names = new Set([...readdirSync(target), ...readdirSync(staging)].filter((name) => !own(name)));
  for (const name of names) {
    if (lstatSync(join(target, name), { throwIfNoEntry: false }) !== undefined)
      renameSync(join(target, name), join(aside, name));
    if (lstatSync(join(staging, name), { throwIfNoEntry: false }) !== undefined)
      renameSync(join(staging, name), join(target, name));
  }
  marker(files.keys());
  rmSync(aside, { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
}

/** Replaces DIR with the tree, refusing to touch a folder that holds anything a render did not write. */
export function replaceRenderFolder(dir: string, files: ReadonlyMap<string, string>): void {
  const problem = outputFolderProblem(dir);
  if (problem !== undefined) throw new UsageError(`--out ${dir}: ${problem}`);
  const target = resolve(dir);
  const existing = lstatSync(target, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink() === true)
    throw new UsageError(`refusing to replace ${dir}: it is a symbolic link; name the folder itself`);
  if (existing !== undefined && readdirSync(target).length > 0) {
    const marker = join(target, RENDER_MARKER);
    if (lstatSync(marker, { throwIfNoEntry: false })?.isFile() !== true)
      throw new UsageError(`refusing to write into ${dir}: it is not empty and was not made by "classops render"`);
    clearScratch(target, '');
    const foreign = foreignEntries(target, listedFiles(marker));
    if (foreign.length > 0)
      throw new UsageError(
        `refusing to replace ${dir}: it holds what "classops render" did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}), which replacing it would delete; move them out, or render into a folder of its own`,
      );
  }
  const real = realPathOf(target);
  if (process.cwd().startsWith(real + sep))
    throw new UsageError(
      `refusing to replace ${dir} from inside one of its folders, which the render replaces: run it from ${dir} or outside it`,
    );
  if (existing !== undefined && staysInPlace(real, existing)) return replaceInside(target, files);
  mkdirSync(dirname(target), { recursive: true });
  clearScratch(dirname(target), basename(target));
  const staging = join(dirname(target), scratchName(basename(target), 'new'));
  const aside = join(dirname(target), scratchName(basename(target), 'old'));
  // The marker first: a tree beside DIR without one is never taken for a render's.
  writeTree(staging, [[RENDER_MARKER, markerText(files.keys())], ...files]);
  if (existing !== undefined) {
    try {
      renameSync(target, aside);
    } catch (error) {
      // A mount point of the same device (a bind mount): found only by trying.
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
      rmSync(staging, { recursive: true, force: true });
      return replaceInside(target, files);
    }
  }
  renameSync(staging, target);
  rmSync(aside, { recursive: true, force: true });
}
