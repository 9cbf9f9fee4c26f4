/** `classops render`: the objects classops would apply, as files for Argo CD, Flux or kubectl. */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { configAboveNote, loadConfig } from '../config.js';
import { interpretRosters } from '../pipeline/interpret.js';
import { formatText } from '../roster/report.js';
import { manifestDocuments, manifestTree } from '../render/tree.js';
import { collectRosterFiles, contentRevision, readRosterFiles } from '../source/dir.js';
import { replaceRenderFolder } from './render-folder.js';
import { EXIT, UsageError, type CommandIO } from './io.js';
import { imageCheckerFor, sourcesOf } from './rosters.js';

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

const HELD_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/**
 * Replaces the folder with SIGTERM, SIGINT and SIGHUP (a closed terminal) held. The swap
 * is synchronous, so a signal that comes during it is read once it has ended: then the
 * render dies of it, leaving a whole folder and no scratch beside it for the next render.
 */
async function replaceHoldingSignals(out: string, tree: ReadonlyMap<string, string>, io: CommandIO): Promise<void> {
  const caught: NodeJS.Signals[] = [];
  const hold = (signal: NodeJS.Signals) => caught.push(signal);
  for (const signal of HELD_SIGNALS) process.on(signal, hold);
  try {
    replaceRenderFolder(out, tree);
  } finally {
    // A signal is read from its pipe on a turn of the event loop: two turns see it.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    for (const signal of HELD_SIGNALS) process.off(signal, hold);
  }
  const signal = caught[0];
  if (signal === undefined) return;
  io.stderr.write(`classops render: stopped by ${signal}, once ${out} was whole again\n`);
  process.kill(process.pid, signal);
  await new Promise(() => undefined); // the signal ends the process
}

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
  for (const { message } of desired!.overQuota) io.stderr.write(`classops render: warning: ${message}\n`);
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
    await replaceHoldingSignals(values.out, manifestTree(weeks), io);
    const students = weeks.reduce((n, w) => n + w.students.length, 0);
    io.stdout.write(
      `rendered ${students} student${students === 1 ? '' : 's'} in ${weeks.length} namespace${weeks.length === 1 ? '' : 's'} to ${values.out}\n`,
    );
  }
  return leftOut ? EXIT.findings : EXIT.ok;
}
