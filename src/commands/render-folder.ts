/**
 * Replacing the folder `classops render --out DIR` writes, without losing what anyone else
 * put there. The marker names every file the last render wrote, so a file added among them
 * (a ConfigMap for kustomize, notes, a .git) stops the render instead of being deleted.
 * The new tree is written beside DIR and swapped in by two renames, so a render killed at
 * any point leaves a whole tree under DIR (or, between the renames, DIR's old one beside it).
 */
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { outputFolderProblem } from '../output-folder.js';
import { readRegularFile } from '../regular-file.js';
import { RENDER_MARKER } from '../render/tree.js';
import { UsageError } from './io.js';

const MARKER_HEADER = 'Made by classops render; the folder is replaced on every run.\n';
const LISTING_HEADER = 'Files it wrote:\n';
/** A listing of 10 000 students' files is about 400 KB. */
const MAX_MARKER_BYTES = 16 << 20;

function markerText(paths: Iterable<string>): string {
  return `${MARKER_HEADER}${LISTING_HEADER}${[...paths].map((p) => `${p}\n`).join('')}`;
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

/** Whether process `pid` runs (EPERM: it does, as another user). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the trees renders of `target` left beside it when they were killed; a running one's stay. */
function clearLeftovers(target: string): void {
  const prefix = `${basename(target)}.classops-`;
  for (const name of readdirSync(dirname(target))) {
    const pid = /^(?:new-|old-)?(\d{1,10})$/.exec(name.startsWith(prefix) ? name.slice(prefix.length) : '')?.[1];
    if (pid !== undefined && Number(pid) !== process.pid && !running(Number(pid)))
      rmSync(join(dirname(target), name), { recursive: true, force: true });
  }
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
    const foreign = foreignEntries(target, listedFiles(marker));
    if (foreign.length > 0)
      throw new UsageError(
        `refusing to replace ${dir}: it holds what "classops render" did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}), which replacing it would delete; move them out, or render into a folder of its own`,
      );
  }
  mkdirSync(dirname(target), { recursive: true });
  clearLeftovers(target);
  const staging = `${target}.classops-new-${process.pid}`;
  const aside = `${target}.classops-old-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  for (const [path, content] of [...files, [RENDER_MARKER, markerText(files.keys())] as const]) {
    mkdirSync(dirname(join(staging, path)), { recursive: true });
    writeFileSync(join(staging, path), content);
  }
  if (existing !== undefined) renameSync(target, aside);
  renameSync(staging, target);
  rmSync(aside, { recursive: true, force: true });
}
