/**
 * The connection to a Kubernetes API server, and the retry rule every call follows:
 * conflicts, rate limits, server errors and dropped connections are retried with
 * exponential backoff and jitter (honouring Retry-After); anything else is final.
 * No Kubernetes client here: commands that never talk to a cluster must not load it.
 */
import { existsSync } from 'node:fs';

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export function runningInCluster(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['KUBERNETES_SERVICE_HOST'] !== undefined && existsSync(IN_CLUSTER_TOKEN);
}

/** A cluster only when one is named, or when running in one: a stray KUBECONFIG never counts. */
export function clusterNamed(
  options: { kubeconfig: string; context: string },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return options.kubeconfig !== '' || options.context !== '' || runningInCluster(env);
}

interface ApiFailure {
  code?: number;
  body?: unknown;
  headers?: Record<string, string>;
  message?: string;
}

export function statusOf(error: unknown): number | undefined {
  const code = (error as ApiFailure).code;
  return typeof code === 'number' ? code : undefined;
}

/** An HTTP 404, whether withRetries wrapped it (a ClusterError) or the client threw it as is. */
export function isNotFound(error: unknown): boolean {
  return (error instanceof ClusterError ? error.status : statusOf(error)) === 404;
}

/** The Status message the API server sent, or the error's own. */
export function messageOf(error: unknown): string {
  const body = (error as ApiFailure).body;
  try {
    const parsed: unknown = typeof body === 'string' ? JSON.parse(body) : body;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { message?: unknown }).message === 'string')
      return (parsed as { message: string }).message;
  } catch {
    // not JSON: fall through
  }
  return (error as ApiFailure).message ?? String(error);
}

function retryable(status: number | undefined): boolean {
  return status === undefined || status === 409 || status === 429 || status >= 500;
}

export interface RetryOptions {
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseMs: 200, maxMs: 5000 };

export function backoffMs(attempt: number, options: { baseMs: number; maxMs: number }, random = Math.random): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** attempt);
  return exponential / 2 + random() * (exponential / 2); // "equal jitter": never less than half
}

export async function withRetries<T>(
  what: string,
  call: () => Promise<T>,
  options: RetryOptions = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const status = statusOf(error);
      if (!retryable(status) || attempt + 1 >= options.attempts) {
        throw new ClusterError(`${what}: ${status === undefined ? '' : `HTTP ${status}: `}${messageOf(error)}`, status);
      }
      const retryAfter = Number((error as ApiFailure).headers?.['retry-after']);
      const wait =
        Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(retryAfter * 1000, options.maxMs)
          : backoffMs(attempt, options);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
