/** `classops validate`: what a student's pull request runs. */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  REPORT_FORMATS,
  formatGithub,
  formatJson,
  formatMarkdown,
  formatText,
  summarize,
  type ReportFormat,
} from '../roster/report.js';
import { configAboveNote } from '../config.js';
import { EXIT, UsageError, type CommandIO } from './io.js';
import { judgeRosters } from './rosters.js';

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

  const note = values.config === undefined ? configAboveNote() : undefined;
  if (note !== undefined) io.stderr.write(`classops validate: ${note}\n`);
  const { reports, sources } = await judgeRosters({
    paths: positionals,
    configFile: values.config,
    env: io.env,
    since: values['changed-since'],
    author: values.author,
    checkImages: values['check-images'] === true,
  });

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
