/**
 * `classops pr-report`: judges a pull request exactly as `validate --changed-since
 * --author` does, then tells its author on GitHub: one comment and a check run. GitHub
 * being down, rate limited or read-only (a fork's token) is a warning; the exit code is
 * the verdict's, as for validate.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Octokit } from 'octokit';
import type { PullRequestRef } from '../github/pr-feedback.js';
import type { ReportFile } from '../github/report-file.js';
import { durationMs } from '../config.js';
import { readRegularFile } from '../regular-file.js';
import { formatGithub, formatJson } from '../roster/report.js';
import { EXIT, UsageError, type CommandIO } from './io.js';
import { judgeRosters } from './rosters.js';

type Json = Record<string, unknown>;
const field = (v: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((o, k) => (typeof o === 'object' && o !== null ? (o as Json)[k] : undefined), v);
const stringOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function readEvent(path: string | undefined): unknown {
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new UsageError(`cannot read the event at GITHUB_EVENT_PATH ${path}: ${(error as Error).message}`);
  }
}

/** --timeout: how long one request waits for GitHub, from a second to an hour. */
function timeoutOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let ms: number;
  try {
    ms = durationMs(text);
  } catch (error) {
    throw new UsageError(`--timeout: ${(error as Error).message}`);
  }
  if (ms < 1000 || ms > 3_600_000) throw new UsageError(`--timeout ${text}: give between 1s and 1h`);
  return ms;
}

export async function prReportCommand(args: string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      base: { type: 'string' },
      author: { type: 'string' },
      repository: { type: 'string' },
      pr: { type: 'string' },
      sha: { type: 'string' },
      'from-report': { type: 'string' },
      branch: { type: 'string' },
      'check-images': { type: 'boolean' },
      config: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const timeoutMs = timeoutOf(values.timeout);
  const event = readEvent(io.env['GITHUB_EVENT_PATH']);
  const repository = values.repository ?? stringOf(io.env['GITHUB_REPOSITORY']);
  if (repository === undefined || !/^[\w.-]+\/[\w.-]+$/.test(repository))
    throw new UsageError('name the repository as owner/name with --repository or GITHUB_REPOSITORY');
  const [owner, repo] = repository.split('/') as [string, string];
  const eventNumber =
    field(event, 'pull_request', 'number') ?? field(event, 'workflow_run', 'pull_requests', '0', 'number');
  const prText = values.pr ?? (typeof eventNumber === 'number' ? String(eventNumber) : '');
  // A report's number comes from the hostile first stage: a bad one fails its check below.
  const number = /^[1-9][0-9]{0,9}$/.test(prText) ? Number(prText) : undefined;
  if (number === undefined && values['from-report'] === undefined)
    throw new UsageError('name the pull request with --pr NUMBER');
  const sha =
    values.sha ??
    stringOf(field(event, 'pull_request', 'head', 'sha')) ??
    stringOf(field(event, 'workflow_run', 'head_sha'));
  if (sha !== undefined && !/^[0-9a-f]{40}$/.test(sha)) throw new UsageError(`--sha must be a full commit SHA`);
  if (values['from-report'] !== undefined && sha === undefined)
    throw new UsageError('a report is posted only on the commit it judged: give --sha, or run on workflow_run');
  const token = stringOf(io.env['GITHUB_TOKEN']);
  if (token === undefined) throw new UsageError('GITHUB_TOKEN is not set: the job needs a token to comment');
  const baseUrl = stringOf(io.env['GITHUB_API_URL']) ?? 'https://api.github.com';

  let files: ReportFile[] = [];
  /** Why the first stage's report cannot be read: it fails its check rather than post nothing. */
  let unreadable: string | undefined;
  const fromReport = values['from-report'];
  if (fromReport !== undefined) {
    const { MAX_REPORT_BYTES, readReport } = await import('../github/report-file.js');
    try {
      files = readReport(readRegularFile(fromReport, MAX_REPORT_BYTES).toString('utf8'));
    } catch (error) {
      unreadable = (error as Error).message;
    }
  } else {
    const head = stringOf(field(event, 'pull_request', 'head', 'sha'));
    const { mergedInto } = await import('../source/git.js');
    // The event's base goes stale when the base branch moves; the merge checked out says what it was made from.
    const base =
      values.base ??
      (head === undefined ? undefined : await mergedInto('.', head)) ??
      stringOf(field(event, 'pull_request', 'base', 'sha'));
    const author = values.author ?? stringOf(field(event, 'pull_request', 'user', 'login'));
    if (base === undefined) throw new UsageError('name the base revision with --base REF (or run on pull_request)');
    const { reports } = await judgeRosters({
      paths: positionals,
      configFile: values.config,
      env: io.env,
      since: base,
      author,
      checkImages: values['check-images'] === true,
    });
    io.stdout.write(formatGithub(reports));
    const { readReport } = await import('../github/report-file.js');
    files = readReport(formatJson(reports));
  }

  const { githubClient, statusOf } = await import('../github/client.js');
  const warn = (message: string) => io.stderr.write(`::warning title=classops pr-report::${message}\n`);
  const octokit = await githubClient({ token, baseUrl, warn, timeoutMs });
  const why = (error: unknown) =>
    statusOf(error) === 403
      ? 'the token may not write here (a fork\'s read-only token, or missing "pull-requests: write"/"checks: write")'
      : (error as Error).message;

  const posting = { io, warn, why };
  if (fromReport !== undefined) {
    const deploys = values.branch ?? stringOf(field(event, 'repository', 'default_branch'));
    const verified = await verifiedReport(
      octokit,
      { owner, repo, number },
      sha!,
      deploys,
      { files, unreadable },
      posting,
    );
    if (typeof verified === 'number') return verified;
    files = verified;
  }
  return postVerdict(octokit, { owner, repo, number: number! }, sha, files, posting);
}

interface Posting {
  readonly io: CommandIO;
  readonly warn: (message: string) => void;
  readonly why: (error: unknown) => string;
}

/**
 * Stage 2 of the fork workflow: the report names nothing we trust, so GitHub says whether
 * it may be posted, and where. The files to post, or the exit code when nothing more is.
 */
async function verifiedReport(
  octokit: Octokit,
  pr: { readonly owner: string; readonly repo: string; readonly number: number | undefined },
  judged: string,
  deploys: string | undefined,
  report: { readonly files: ReportFile[]; readonly unreadable: string | undefined },
  { io, warn, why }: Posting,
): Promise<ReportFile[] | number> {
  const { postCheckRun } = await import('../github/pr-feedback.js');
  const failClosed = async (reason: string, exit: number = EXIT.usage): Promise<number> => {
    io.stderr.write(`classops pr-report: ${reason}; the check on ${judged} fails\n`);
    try {
      await postCheckRun(octokit, { owner: pr.owner, repo: pr.repo }, judged, {
        conclusion: 'failure',
        title: 'Not verified',
        summary: `classops could not verify the check of this commit: ${reason}. An instructor reviews the pull request before merging it.`,
        annotations: [],
      });
    } catch (error) {
      warn(`could not create the check run: ${why(error)}`);
    }
    return exit;
  };
  if (report.unreadable !== undefined) return failClosed(`the first stage's report is unusable: ${report.unreadable}`);
  const number = pr.number;
  if (number === undefined) return failClosed('the first stage names no pull request');
  const { reportStanding, untrustedReport } = await import('../github/report-standing.js');
  let standing;
  try {
    standing = await reportStanding(octokit, { ...pr, number }, judged, deploys);
  } catch (error) {
    return failClosed(`GitHub could not be asked about pull request #${number} (${why(error)})`);
  }
  switch (standing.kind) {
    case 'superseded':
      io.stderr.write(
        `classops pr-report: pull request #${number} has moved on from ${judged} to ${standing.head}; the check of that commit posts the verdict, nothing was posted\n`,
      );
      return EXIT.ok;
    case 'foreign':
      // Most often the pull request was force-pushed since (its new head has its own run); a
      // report naming another pull request ends the same way: this commit is not verified.
      return failClosed(
        `${judged} is no longer a commit of pull request #${number} (force-pushed since, or the report names another pull request)`,
        EXIT.ok,
      );
    case 'untrusted':
      return untrustedReport(standing.findings);
    case 'current':
      return report.files;
  }
}

/** The comment (unless the pull request moved on meanwhile) and the check run on the judged commit. */
async function postVerdict(
  octokit: Octokit,
  pr: PullRequestRef,
  sha: string | undefined,
  files: readonly ReportFile[],
  { io, warn, why }: Posting,
): Promise<number> {
  const { annotationsOf, countErrors, formatComment } = await import('../github/pr-comment.js');
  const { postCheckRun, upsertComment } = await import('../github/pr-feedback.js');
  const { headOf } = await import('../github/report-standing.js');
  const errors = countErrors(files);
  const body = formatComment(files, sha);
  try {
    // A run that took long must not put its older verdict over a newer run's comment.
    const head = sha === undefined ? undefined : await headOf(octokit, pr);
    if (head !== undefined && head !== sha)
      io.stderr.write(`classops pr-report: #${pr.number} has moved on to ${head}; its comment is left to that run\n`);
    else io.stderr.write(`classops pr-report: comment on #${pr.number} ${await upsertComment(octokit, pr, body)}\n`);
  } catch (error) {
    warn(`could not comment on #${pr.number}: ${why(error)}; the annotations carry the verdict`);
  }
  if (sha !== undefined) {
    try {
      const batches = await postCheckRun(octokit, { owner: pr.owner, repo: pr.repo }, sha, {
        conclusion: errors > 0 ? 'failure' : 'success',
        title:
          errors > 0 ? `${errors} ${errors === 1 ? 'problem' : 'problems'} to fix` : 'Every changed entry is valid',
        summary: body,
        annotations: annotationsOf(files),
      });
      io.stderr.write(`classops pr-report: check run posted (${batches} annotation batch(es))\n`);
    } catch (error) {
      warn(`could not create the check run: ${why(error)}; the comment and annotations carry the verdict`);
    }
  }
  return errors > 0 ? EXIT.findings : EXIT.ok;
}
