/** `classops render`: the objects classops would apply, as files for Argo CD, Flux or kubectl. */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { addFindings, type Finding } from '../roster/model.js';
import { formatText } from '../roster/report.js';
import { RENDER_MARKER, manifestStream, manifestTree } from '../render/tree.js';
import { renderWeek, type RenderedWeek } from '../render/week.js';
import { collectRosterFiles, contentRevision } from '../source/dir.js';
import { EXIT, UsageError, type CommandIO } from './io.js';
import { checkRosterImages, digestsOf, loadRosters, sourcesOf, type LoadedRoster } from './rosters.js';

/** Replaces DIR with the tree, refusing to touch a non-empty folder classops did not make. */
function writeTree(dir: string, files: Map<string, string>): void {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0 && !existsSync(join(target, RENDER_MARKER))) {
    throw new UsageError(`refusing to write into ${dir}: it is not empty and was not made by "classops render"`);
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

function defaultRevision(rosters: readonly LoadedRoster[]): string {
  return contentRevision(rosters.map((r) => [r.report.file, r.bytes] as const));
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
  if (values.out === undefined) throw new UsageError('--out DIR or --out - is required');
  const config = loadConfig({ file: values.config, env: io.env });
  const rosters = loadRosters(
    collectRosterFiles(positionals.length > 0 ? positionals : [config.source.path]),
    config.policy,
  );
  const revision = values.revision ?? defaultRevision(rosters);
  let reports = rosters.map((r) => r.report);
  let digests = new Map<string, string>();
  if (values['check-images']) {
    const checked = await checkRosterImages(reports, config.registry);
    reports = checked.reports;
    digests = digestsOf(checked.verdicts);
  }

  const weeks: RenderedWeek[] = [];
  const problems: Finding[] = [];
  const claimed = new Map<string, string>();
  for (const report of reports) {
    const week = renderWeek(report, config, { revision, digests });
    if ('code' in week) {
      problems.push(week);
      continue;
    }
    const owner = claimed.get(week.namespace);
    if (owner !== undefined) {
      problems.push({
        code: 'render-namespace-conflict',
        severity: 'error',
        message: `Namespace ${week.namespace} is already rendered from ${owner}; a namespace holds one week.`,
        hint: 'Give each week its own metadata.namespace.',
        file: report.file,
        line: 1,
        column: 1,
      });
      continue;
    }
    claimed.set(week.namespace, report.file);
    weeks.push(week);
    problems.push(...week.findings);
  }

  const shown = reports.map((report) =>
    addFindings(
      report,
      problems.filter((p) => p.file === report.file),
    ),
  );
  const leftOut = shown.some((r) => r.findings.some((f) => f.severity === 'error'));
  if (shown.some((r) => r.findings.length > 0)) {
    io.stderr.write(
      formatText(
        shown.filter((r) => r.findings.length > 0),
        { sources: sourcesOf(rosters), color: false },
      ),
    );
  }
  if (values.out === '-') {
    io.stdout.write(manifestStream(weeks));
  } else {
    writeTree(values.out, manifestTree(weeks));
    const students = weeks.reduce((n, w) => n + w.students.length, 0);
    io.stdout.write(
      `rendered ${students} student${students === 1 ? '' : 's'} in ${weeks.length} namespace${weeks.length === 1 ? '' : 's'} to ${values.out}\n`,
    );
  }
  return leftOut ? EXIT.findings : EXIT.ok;
}
