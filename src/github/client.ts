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
  /** How long one request may wait for GitHub's whole answer (default 20 s). */
  readonly timeoutMs?: number;
}

export const GITHUB_TIMEOUT_MS = 20_000;

/**
 * fetch that gives up on GitHub after `ms`: connecting, the headers and the whole body,
 * which it reads before Octokit does (Octokit takes a body cut short for an empty answer).
 * Its error is named AbortError, which Octokit passes on without retrying: a GitHub that
 * took the request and stopped answering would only keep the job waiting as long again, and
 * a POST whose answer was lost would be carried out twice.
 */
function fetchWithin(ms: number): typeof fetch {
  return async (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      const response = await fetch(input, { ...init, signal });
      const body = await response.arrayBuffer();
      // The reason phrase only if fetch's Response takes it back (obs-text, a DEL, do not).
      const statusText = /^[\t\x20-\x7e]*$/.test(response.statusText) ? response.statusText : '';
      const whole = new Response(body.byteLength === 0 ? null : body, {
        status: response.status,
        statusText,
        headers: response.headers,
      });
      Object.defineProperty(whole, 'url', { value: response.url });
      return whole;
    } catch (error) {
      const method = init?.method ?? 'GET';
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      // A POST whose answer was lost may have been carried out (a comment made): not sent again.
      if (!timeout.aborted && method !== 'POST') throw error;
      const cause =
        error instanceof Error ? (error.cause instanceof Error ? error.cause : error).message : String(error);
      const lost = new Error(
        timeout.aborted
          ? `GitHub did not answer ${method} ${path} within ${ms / 1000}s`
          : `GitHub's answer to ${method} ${path} was lost (${cause}); not sent again, as GitHub may have acted on it`,
      );
      lost.name = 'AbortError';
      throw lost;
    }
  };
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
    request: { retries: options.retries ?? 2, fetch: fetchWithin(options.timeoutMs ?? GITHUB_TIMEOUT_MS) },
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
