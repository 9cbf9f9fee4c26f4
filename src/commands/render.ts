/** `classops render`: the objects classops would apply, as files for Argo CD, Flux or kubectl. */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { configAboveNote, loadConfig } from '../config.js';
import { interpretRosters } from '../pipeline/interpret.js';
import { formatText } from '../roster/report.js';
import { RENDER_MARKER, manifestDocuments, manifestTree } from '../render/tree.js';
import { collectRosterFiles, contentRevision, readRosterFiles } from '../source/dir.js';
import { outputFolderProblem } from '../output-folder.js';
import { EXIT, UsageError, type CommandIO } from './io.js';
import { imageCheckerFor, sourcesOf } from './rosters.js';

/**
 * What in a folder a render did not write: anything but its marker, its kustomization.yaml
 * and namespace folders of YAML files. A render replaces the folder whole, so one such
 * entry (a .git someone made inside it, a README) would be lost.
 */
function foreignEntries(target: string): string[] {
  const foreign: string[] = [];
  for (const entry of readdirSync(target, { withFileTypes: true })) {
    if (entry.isFile() && (entry.name === RENDER_MARKER || entry.name === 'kustomization.yaml')) continue;
    const inside = entry.isDirectory() ? readdirSync(join(target, entry.name), { withFileTypes: true }) : undefined;
    if (inside?.every((file) => file.isFile() && file.name.endsWith('.yaml'))) continue;
    foreign.push(entry.name);
  }
  return foreign;
}

/** Replaces DIR with the tree, refusing to touch a folder that holds anything a render did not write. */
function writeTree(dir: string, files: Map<string, string>): void {
  const problem = outputFolderProblem(dir);
  if (problem !== undefined) throw new UsageError(`--out ${dir}: ${problem}`);
  const target = resolve(dir);
  if (lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink() === true)
    throw new UsageError(`refusing to replace ${dir}: it is a symbolic link; name the folder itself`);
  if (existsSync(target) && readdirSync(target).length > 0) {
    if (lstatSync(join(target, RENDER_MARKER), { throwIfNoEntry: false })?.isFile() !== true)
      throw new UsageError(`refusing to write into ${dir}: it is not empty and was not made by "classops render"`);
    const foreign = foreignEntries(target);
    if (foreign.length > 0)
      throw new UsageError(
        `refusing to replace ${dir}: it holds what "classops render" did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}), which replacing it would delete; move them out, or render into a folder of its own`,
      );
  }
  const staging = `${target}.classops-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  for (const [path, content] of [
    ...files,
    [RENDER_MARKER, 'Made by classops render; the folder is replaced on every run.\n'] as const,
  ]) {
    mkdirSync(dirname(join(staging, path)), { recursive: true });
    writeFileSync(join(staging, path), content);
  }
  rmSync(target, { recursive: true, force: true });
  renameSync(staging, target);
}

/** Writes documents in batches of about a MiB, waiting while the reader is behind. */
async function writeDocuments(out: NodeJS.WritableStream, documents: Iterable<string>): Promise<void> {
  let batch: string[] = [];
  let size = 0;
  const flush = async () => {
    const more = out.write(batch.join(''));
    batch = [];
    size = 0;
    if (!more) await once(out, 'drain');
  };
  for (const document of documents) {
    batch.push(document);
    size += document.length;
    if (size >= BATCH) await flush();
  }
  if (size > 0) await flush();
}
const BATCH = 1 << 20;

export async function renderCommand(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      revision: { type: 'string' },
      'check-images': { type: 'boolean' },
      config: { type: 'string' },
    },
  });
  if (values.out === undefined || values.out === '') throw new UsageError('--out DIR or --out - is required');
  const note = values.config === undefined ? configAboveNote() : undefined;
  if (note !== undefined) io.stderr.write(`classops render: ${note}\n`);
  const config = loadConfig({ file: values.config, env: io.env });
  const { files, problems: unreadable } = readRosterFiles(
    collectRosterFiles(positionals.length > 0 ? positionals : [config.source.path]),
    config.policy.limits.maxFileBytes,
  );
  const { reports, desired } = await interpretRosters(
    { files, unreadable, config, images: imageCheckerFor(config, values['check-images']) },
    { revision: values.revision ?? contentRevision(files), lastGood: new Map() },
  );
  const weeks = desired!.weeks;
  const shown = reports.filter((r) => r.findings.length > 0);
  if (shown.length > 0) io.stderr.write(formatText(shown, { sources: sourcesOf(files), color: false }));
  const leftOut = reports.some((r) => r.findings.some((f) => f.severity === 'error'));
  // A file that cannot be read would be a week missing from the output, and Argo CD or Flux
  // would prune it: render has no last-known-good, so it writes nothing and the last render stays.
  const held = reports.find((r) => !r.complete);
  if (held !== undefined) {
    io.stderr.write(
      `classops render: nothing was written: ${held.file} cannot be read, and without it its week would be missing; fix it, and render again\n`,
    );
    return EXIT.findings;
  }
  if (values.out === '-') {
    await writeDocuments(io.stdout, manifestDocuments(weeks));
  } else {
    writeTree(values.out, manifestTree(weeks));
    const students = weeks.reduce((n, w) => n + w.students.length, 0);
    io.stdout.write(
      `rendered ${students} student${students === 1 ? '' : 's'} in ${weeks.length} namespace${weeks.length === 1 ? '' : 's'} to ${values.out}\n`,
    );
  }
  return leftOut ? EXIT.findings : EXIT.ok;
}
