/**
 * What `classops render --out DIR` writes for a moment, and what a killed render left of it:
 * beside DIR, `DIR.classops-<kind>-<pid>-<run>` (the new tree, then the old one); inside it
 * when swapping in place, `.classops-<kind>-<pid>-<run>`. The run part tells this render from
 * a killed one with the same pid (in a container, each is pid 1). A name alone proves
 * nothing: a render's scratch holds its marker and nothing but a render's files (or nothing,
 * made as it was killed).
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { processRuns } from '../process-alive.js';
import { readRegularFile } from '../regular-file.js';
import { RENDER_MARKER, RENDER_MARKER_HEADER } from '../render/tree.js';

const RUN = randomBytes(4).toString('hex');
/** A marker lists the files of a render: about 400 KB for 10 000 students. */
export const MAX_MARKER_BYTES = 16 << 20;
/** Scratch changed more recently may be another render's at work (in another container, with the same pid). */
const SETTLED_MS = 60_000;

export type ScratchKind = 'new' | 'old' | 'marker';

/** This render's scratch name of a kind, beside DIR (`base` is its name) or inside it (`base` is empty). */
export const scratchName = (base: string, kind: ScratchKind): string =>
  `${base}.classops-${kind}-${process.pid}-${RUN}`;

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const patternOf = (base: string) =>
  new RegExp(`^${escaped(base)}\\.classops-(new|old|marker)-(\\d{1,10})-([0-9a-f]{8})$`);

/**
 * What an entry of `folder` is: no scratch; named as scratch but not a render's (`foreign`:
 * a user's); a render's that may be under way (`live`); or one a killed render left (`left`),
 * its render gone and nothing in it changed for a minute.
 */
export function scratchOf(folder: string, name: string, base: string): 'none' | 'foreign' | 'live' | 'left' {
  const [, kind, pid, run] = patternOf(base).exec(name) ?? [];
  if (kind === undefined) return 'none';
  const path = join(folder, name);
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return 'none';
  const children = stat.isDirectory() ? readdirSync(path) : [];
  const ours = stat.isDirectory()
    ? children.length === 0 || (isMarker(join(path, RENDER_MARKER)) && isRenderTree(path, children))
    : kind === 'marker' && base === '' && isMarker(path);
  if (!ours) return 'foreign';
  const gone = Number(pid) === process.pid ? run !== RUN : !processRuns(Number(pid));
  const changed = Math.max(
    stat.mtimeMs,
    ...children.map((child) => lstatSync(join(path, child), { throwIfNoEntry: false })?.mtimeMs ?? 0),
  );
  return gone && Date.now() - changed >= SETTLED_MS ? 'left' : 'live';
}

/** A regular file that begins as every marker a render writes (read without blocking, whatever is planted there). */
function isMarker(path: string): boolean {
  try {
    return readRegularFile(path, MAX_MARKER_BYTES).toString('utf8').startsWith(RENDER_MARKER_HEADER);
  } catch {
    return false;
  }
}

/** Whether a folder holds only what a render writes: its marker, kustomization.yaml, and folders of YAML files. */
function isRenderTree(path: string, children: readonly string[]): boolean {
  return children.every((name) => {
    const stat = lstatSync(join(path, name), { throwIfNoEntry: false });
    if (name === RENDER_MARKER || name === 'kustomization.yaml') return stat?.isFile() === true;
    if (stat?.isDirectory() !== true) return false;
    return readdirSync(join(path, name), { withFileTypes: true }).every((f) => f.isFile() && f.name.endsWith('.yaml'));
  });
}

/** Removes from `folder` the scratch killed renders left there (named from `base`), and nothing else. */
export function clearScratch(folder: string, base: string): void {
  for (const name of readdirSync(folder))
    if (scratchOf(folder, name, base) === 'left') rmSync(join(folder, name), { recursive: true, force: true });
}
