/**
 * What `classops run` adds for GitHub, each only when configured and loaded only then
 * (octokit is heavy): the push webhook route and the commit-status reporter.
 */
import { readFileSync } from 'node:fs';
import type { RequestHandler } from 'express';
import type { ClassopsConfig } from '../config.js';
import type { State } from '../controller/state.js';
import type { Logger } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { GitSource } from '../source/git.js';
import type { Source } from '../source/index.js';
import { UsageError } from './io.js';

/** With a webhook, polling is only the safety net for a lost delivery. */
export function pollInterval(config: ClassopsConfig): string {
  return config.source.pollInterval || (config.github.webhookSecretFile ? '5m' : '30s');
}

function secretOf(file: string, what: string): string {
  const secret = readFileSync(file, 'utf8').trim();
  if (secret === '') throw new UsageError(`the ${what} file ${file} is empty`);
  return secret;
}

/** POST /webhooks/github, only when github.webhookSecretFile is set. */
export async function githubWebhook(
  config: ClassopsConfig,
  hooks: { metrics: Metrics; log: Logger; onPush: () => void },
): Promise<RequestHandler | undefined> {
  const { webhookSecretFile, webhookPreviousSecretFile } = config.github;
  if (!webhookSecretFile) return undefined;
  const secrets = [webhookSecretFile, webhookPreviousSecretFile]
    .filter((file) => file !== '')
    .map((file) => secretOf(file, 'webhook secret'));
  const { webhookHandler } = await import('../github/webhook.js');
  const { branch, path } = config.source;
  return webhookHandler({ ...hooks, secrets, branch, path, repository: config.github.repository });
}

/** The commit-status reporter, only with github.statuses: true. */
export async function commitStatuses(
  config: ClassopsConfig,
  source: Source,
  hooks: { metrics: Metrics; log: Logger },
): Promise<{ observe(state: State): void } | undefined> {
  const { statuses, tokenFile, repository, apiUrl } = config.github;
  if (!statuses) return undefined;
  if (!(source instanceof GitSource))
    throw new UsageError('github.statuses needs source.kind: git, to find the commit that changed each entry');
  if (!tokenFile || !/^[\w.-]+\/[\w.-]+$/.test(repository))
    throw new UsageError('github.statuses needs github.tokenFile and github.repository (owner/name)');
  const { githubClient } = await import('../github/client.js');
  const { StatusReporter } = await import('../github/statuses.js');
  const octokit = await githubClient({
    token: secretOf(tokenFile, 'GitHub token'),
    baseUrl: apiUrl,
    warn: (message) => hooks.log.warn(message),
    onRateLimitRemaining: (n) => hooks.metrics.githubRateLimitRemaining.set(n),
  });
  return new StatusReporter({
    ...hooks,
    octokit,
    repository,
    render: config.render,
    policy: config.policy,
    git: source,
  });
}
