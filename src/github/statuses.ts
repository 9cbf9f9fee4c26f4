/**
 * "Your app is live" on GitHub: after each reconcile, a commit status `classops/<login>`
 * on the commit that last changed each student's entry: success with the app's URL when
 * the Deployment is Ready, failure with the reason when it cannot run. Posted once per
 * change of state; after a restart the newest status of the context is read first, so
 * nothing is posted twice. The work runs on its own queue: GitHub being slow, down or
 * rate limited never delays a reconcile.
 */
import type { Octokit } from 'octokit';
import type { RenderConfig } from '../config.js';
import type { State, StudentStatus } from '../controller/state.js';
import { studentKey } from '../controller/state.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { studentPath } from '../render/objects.js';
import { validateRoster } from '../roster/validate.js';
import type { PolicyConfig } from '../config.js';
import { statusOf } from './client.js';

/** GitHub's limit for a status description. */
const MAX_DESCRIPTION = 140;

export interface WantedStatus {
  readonly context: string;
  readonly file: string;
  readonly login: string;
  readonly state: 'success' | 'failure';
  readonly description: string;
  readonly targetUrl: string | undefined;
}

const bounded = (text: string) =>
  [...text].length > MAX_DESCRIPTION ? `${[...text].slice(0, MAX_DESCRIPTION - 1).join('')}…` : text;

/** The status each student should show now; none while their app is still starting. */
export function wantedStatuses(state: State, render: RenderConfig): WantedStatus[] {
  const scheme = render.routing.tlsSecretName ? 'https' : 'http';
  return [...state.students.values()].flatMap((s: StudentStatus): WantedStatus[] => {
    const base = { context: `classops/${s.githubUsername.toLowerCase()}`, file: s.file, login: s.githubUsername };
    if (s.deployment !== 'deployed' && s.reason !== undefined)
      return [{ ...base, state: 'failure', description: bounded(s.reason), targetUrl: undefined }];
    if (s.health?.phase === 'Ready') {
      const entry = state.lastGood?.get(studentKey(s.namespace, s.githubUsername))?.entry;
      const url =
        entry && render.routing.host
          ? `${scheme}://${render.routing.host}${studentPath(render, entry)}${entry.studentEndpoint}`
          : undefined;
      return [{ ...base, state: 'success', description: bounded('Your app is live.'), targetUrl: url }];
    }
    if (s.health?.phase === 'Failing')
      return [
        {
          ...base,
          state: 'failure',
          description: bounded(`Not running: ${s.health.reason ?? 'failing'}`),
          targetUrl: undefined,
        },
      ];
    return [];
  });
}

/** Lines `from`–`to` of the student's entry in a roster file (to the next entry, or the end). */
export function entryLines(
  file: string,
  bytes: Buffer,
  login: string,
  policy: PolicyConfig,
): { from: number; to: number } | undefined {
  const entries = [...validateRoster(file, bytes, policy).entries].sort((a, b) => a.line - b.line);
  const at = entries.findIndex((e) => e.githubUsername?.toLowerCase() === login.toLowerCase());
  if (at === -1) return undefined;
  const lines = bytes.toString('utf8').replace(/\n$/, '').split('\n').length;
  return { from: entries[at]!.line, to: (entries[at + 1]?.line ?? lines + 1) - 1 };
}

export interface StatusReporterOptions {
  readonly octokit: Octokit;
  readonly repository: string;
  readonly render: RenderConfig;
  readonly policy: PolicyConfig;
  /** The git source: the file at a revision, and the last commit that changed some of its lines. */
  readonly git: {
    readAt(file: string, revision: string): Promise<Buffer>;
    lastCommitOf(file: string, from: number, to: number, revision: string): Promise<string | undefined>;
  };
  readonly metrics: Metrics;
  readonly log: Logger;
}

export class StatusReporter {
  /** What each context shows on GitHub, as far as this process knows: `sha state description`. */
  private readonly shown = new Map<string, string>();
  /** The last `revision state description` settled per context, so an unchanged student costs nothing. */
  private readonly settled = new Map<string, string>();
  /** The latest wanted status per context; a newer one replaces a queued one. */
  private readonly queue = new Map<string, { wanted: WantedStatus; revision: string }>();
  private draining: Promise<void> | undefined;

  constructor(private readonly options: StatusReporterOptions) {}

  /** Called after each reconcile; returns at once. */
  observe(state: State): void {
    const revision = state.reconcile.revision;
    if (revision === undefined) return;
    for (const wanted of wantedStatuses(state, this.options.render))
      if (this.settled.get(wanted.context) !== `${revision} ${wanted.state} ${wanted.description}`)
        this.queue.set(wanted.context, { wanted, revision });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves when the queue is empty (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.draining !== undefined) await this.draining;
  }

  private async drain(): Promise<void> {
    const files = new Map<string, Promise<Buffer>>();
    while (this.queue.size > 0) {
      const [context, { wanted, revision }] = this.queue.entries().next().value!;
      this.queue.delete(context);
      try {
        const key = `${wanted.file}@${revision}`;
        if (!files.has(key)) files.set(key, this.options.git.readAt(wanted.file, revision));
        const lines = entryLines(wanted.file, await files.get(key)!, wanted.login, this.options.policy);
        const sha = lines && (await this.options.git.lastCommitOf(wanted.file, lines.from, lines.to, revision));
        if (sha !== undefined) await this.post(wanted, sha);
        this.settled.set(context, `${revision} ${wanted.state} ${wanted.description}`);
      } catch (error) {
        this.options.metrics.commitStatuses.inc({ state: wanted.state, result: 'failed' });
        this.options.log.warn('could not post a commit status; the next reconcile tries again', {
          context,
          status: statusOf(error),
          error: (error as Error).message,
        });
      }
    }
  }

  private async post(wanted: WantedStatus, sha: string): Promise<void> {
    const { octokit, metrics } = this.options;
    const [owner, repo] = this.options.repository.split('/') as [string, string];
    const mark = `${sha} ${wanted.state} ${wanted.description}`;
    if (this.shown.get(wanted.context) === mark) return;
    // After a restart: what GitHub shows already (statuses are listed newest first).
    const { data } = await octokit.rest.repos.listCommitStatusesForRef({ owner, repo, ref: sha, per_page: 100 });
    const newest = (Array.isArray(data) ? data : []).find(
      (s: unknown) => (s as { context?: unknown } | null)?.context === wanted.context,
    ) as { state?: unknown; description?: unknown } | undefined;
    if (newest?.state === wanted.state && newest.description === wanted.description) {
      this.shown.set(wanted.context, mark);
      metrics.commitStatuses.inc({ state: wanted.state, result: 'skipped' });
      return;
    }
    await octokit.rest.repos.createCommitStatus({
      owner,
      repo,
      sha,
      state: wanted.state,
      context: wanted.context,
      description: wanted.description,
      ...(wanted.targetUrl === undefined ? {} : { target_url: wanted.targetUrl }),
    });
    this.shown.set(wanted.context, mark);
    metrics.commitStatuses.inc({ state: wanted.state, result: 'posted' });
    this.options.log.info(`commit status ${wanted.context}: ${wanted.state}`, { sha, description: wanted.description });
  }
}
