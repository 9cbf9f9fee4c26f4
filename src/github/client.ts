/**
 * An Octokit for classops' feedback on GitHub, loaded only by the code paths that post
 * (octokit is heavy). Throttling and retries come from the plugins bundled in `octokit`:
 * a rate limit or secondary limit is waited out once when the wait is short, then the
 * error reaches the caller, which treats GitHub trouble as a warning, never a failure.
 */
import type { Octokit } from 'octokit';

/** Longest wait for a rate limit to reset before giving up (a CI job or the controller's queue waits this long at most). */
const MAX_RATE_LIMIT_WAIT_S = 60;

export interface GithubClientOptions {
  readonly token: string;
  readonly baseUrl: string;
  readonly warn: (message: string) => void;
  /** x-ratelimit-remaining of each answer, for the metric. */
  readonly onRateLimitRemaining?: (remaining: number) => void;
  /** Retries of a failed request (5xx); GitHub's own advice is a few with backoff. */
  readonly retries?: number;
}

export async function githubClient(options: GithubClientOptions): Promise<Octokit> {
  const { Octokit } = await import('octokit');
  const limited =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const retry = retryCount < 1 && retryAfter <= MAX_RATE_LIMIT_WAIT_S;
      options.warn(
        `GitHub ${kind} on ${request.method} ${request.url}: ${retry ? `retrying in ${retryAfter}s` : 'giving up'}`,
      );
      return retry;
    };
  const octokit = new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    userAgent: 'classops',
    throttle: { onRateLimit: limited('rate limit'), onSecondaryRateLimit: limited('secondary rate limit') },
    request: { retries: options.retries ?? 2 },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  octokit.hook.after('request', (response) => {
    const remaining = Number(response.headers['x-ratelimit-remaining']);
    if (Number.isFinite(remaining)) options.onRateLimitRemaining?.(remaining);
  });
  return octokit;
}

/** The HTTP status of an Octokit error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}
