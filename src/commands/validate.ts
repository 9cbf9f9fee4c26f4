/** `classops validate`: what a student's pull request runs. */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { interpretRosters } from '../pipeline/interpret.js';
import { judgeChanges } from '../roster/changes.js';
import type { RosterReport } from '../roster/model.js';
import {
  REPORT_FORMATS,
  formatGithub,
  formatJson,
  formatMarkdown,
  formatText,
  summarize,
  type ReportFormat,
} from '../roster/report.js';
import { validateRoster } from '../roster/validate.js';
import { collectRosterFiles } from '../source/dir.js';
import { readFileAtRevision } from '../source/git.js';
import { EXIT, UsageError, type CommandIO } from './io.js';
import { imageCheckerFor, readRosterFiles, sourcesOf } from './rosters.js';

export async function validateCommand(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'text' },
      'changed-since': { type: 'string' },
      author: { type: 'string' },
      'check-images': { type: 'boolean' },
      config: { type: 'string' },
    },
  });
  const format = values.format as ReportFormat;
  if (!REPORT_FORMATS.includes(format))
    throw new UsageError(`unknown --format "${values.format}"; use one of ${REPORT_FORMATS.join(', ')}`);
  if (values.author !== undefined && values['changed-since'] === undefined)
    throw new UsageError('--author needs --changed-since REF to know which entries the pull request changed');

  const config = loadConfig({ file: values.config, env: io.env });
  const { files, unreadable } = readRosterFiles(
    collectRosterFiles(positionals.length > 0 ? positionals : [config.source.path]),
  );
  const sources = sourcesOf(files);
  const checked = (
    await interpretRosters({ files, unreadable, config, images: imageCheckerFor(config, values['check-images']) })
  ).reports;
  const reports: RosterReport[] = [];
  for (const report of checked) {
    const since = values['changed-since'];
    if (since === undefined) {
      reports.push(report);
      continue;
    }
    const before = await readFileAtRevision(report.file, since);
    const base = before === undefined ? undefined : validateRoster(report.file, before, config.policy);
    reports.push(judgeChanges(report, base, { author: values.author, instructors: config.policy.instructors }));
  }

  switch (format) {
    case 'json':
      io.stdout.write(formatJson(reports));
      break;
    case 'markdown':
      io.stdout.write(formatMarkdown(reports));
      break;
    case 'github': {
      io.stdout.write(formatGithub(reports));
      const summaryFile = io.env['GITHUB_STEP_SUMMARY'];
      if (summaryFile) appendFileSync(summaryFile, formatMarkdown(reports));
      break;
    }
    case 'text':
      io.stdout.write(formatText(reports, { sources, color: io.stdout.isTTY === true && !io.env['NO_COLOR'] }));
      break;
  }
  return summarize(reports).errors > 0 ? EXIT.findings : EXIT.ok;
}
