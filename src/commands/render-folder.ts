/**
 * Replacing the folder `classops render --out DIR` writes, without losing what anyone else
 * put there. The marker names every file the last render wrote, so a file added among them
 * (a ConfigMap for kustomize, notes, a .git) stops the render instead of being deleted.
 * The new tree is written beside DIR and swapped in by two renames, so a render killed at
 * any point leaves a whole tree under DIR (or, between the renames, DIR's old one beside it).
 * A folder that must stay itself (a mount point, which cannot be renamed, or the folder the
 * command runs in, which a shell there would lose) has its entries swapped one by one instead.
 */
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { outputFolderProblem } from '../output-folder.js';
import { leftBehind, processRuns } from '../process-alive.js';
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
    if ((entry.name === RENDER_MARKER && entry.isFile()) || SCRATCH.test(entry.name)) continue;
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

/** Removes what renders killed while writing left in `folder` under `prefix`; a running one's stays. */
function clearLeftovers(folder: string, prefix: string): void {
  for (const name of readdirSync(folder))
    if (['new-', 'old-', ''].some((kind) => leftBehind(name, `${prefix}${kind}`)))
      rmSync(join(folder, name), { recursive: true, force: true });
}

/**
 * What a render swapping inside DIR writes there for a moment: `.classops-<kind>-<pid>-<run>`.
 * The run part tells this render from a killed one with the same pid (in a container, each is pid 1).
 */
const RUN = randomBytes(4).toString('hex');
const SCRATCH = /^\.classops-(?:new|old|marker)-(\d{1,10})-([0-9a-f]{8})$/;
const scratchName = (kind: 'new' | 'old' | 'marker') => `.classops-${kind}-${process.pid}-${RUN}`;

/** Removes the scratch of renders that are gone; one whose pid runs (maybe reused) stays, and blocks nothing. */
function clearScratch(target: string): void {
  for (const name of readdirSync(target)) {
    const [, pid, run] = SCRATCH.exec(name) ?? [];
    if (pid === undefined) continue;
    if (Number(pid) === process.pid ? run !== RUN : !processRuns(Number(pid)))
      rmSync(join(target, name), { recursive: true, force: true });
  }
}

/** What renders name the trees they write beside DIR, and the entries they swap inside it. */
const besidePrefix = (target: string) => `${basename(target)}.classops-`;

/** Writes the tree under `dir`, made new. */
function writeTree(dir: string, files: Iterable<readonly [string, string]>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  for (const [path, content] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/** The files in a rendered folder, but its marker: a render's tree is two levels deep. */
function presentFiles(target: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.isDirectory()) files.push(...readdirSync(join(target, entry.name)).map((f) => `${entry.name}/${f}`));
    else if (entry.name !== RENDER_MARKER) files.push(entry.name);
  }
  return files;
}

/** Whether DIR must stay the folder it is: a mount point, or where this command runs. */
function staysInPlace(target: string, existing: Stats): boolean {
  return process.cwd() === target || lstatSync(dirname(target)).dev !== existing.dev;
}

/**
 * Swaps the entries of `target` for the tree's, one rename each. The marker first lists the
 * files of both renders, so a render killed halfway leaves a folder the next one replaces.
 */
function replaceInside(target: string, files: ReadonlyMap<string, string>): void {
  const staging = join(target, scratchName('new'));
  const aside = join(target, scratchName('old'));
  const marker = (paths: Iterable<string>) => {
    const temporary = join(target, scratchName('marker'));
    writeFileSync(temporary, markerText(paths));
    renameSync(temporary, join(target, RENDER_MARKER));
  };
  writeTree(staging, files);
  marker(new Set([...presentFiles(target), ...files.keys()]));
  writeTree(aside, []);
  const own = (name: string) => name === RENDER_MARKER || SCRATCH.test(name);
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
    clearScratch(target);
    const foreign = foreignEntries(target, listedFiles(marker));
    if (foreign.length > 0)
      throw new UsageError(
        `refusing to replace ${dir}: it holds what "classops render" did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}), which replacing it would delete; move them out, or render into a folder of its own`,
      );
  }
  if (process.cwd().startsWith(target + sep))
    throw new UsageError(
      `refusing to replace ${dir} from inside one of its folders, which the render replaces: run it from ${dir} or outside it`,
    );
  if (existing !== undefined && staysInPlace(target, existing)) return replaceInside(target, files);
  mkdirSync(dirname(target), { recursive: true });
  clearLeftovers(dirname(target), besidePrefix(target));
  const staging = `${target}.classops-new-${process.pid}`;
  const aside = `${target}.classops-old-${process.pid}`;
  writeTree(staging, [...files, [RENDER_MARKER, markerText(files.keys())]]);
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
