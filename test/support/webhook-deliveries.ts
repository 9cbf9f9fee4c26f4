/**
 * GitHub webhook deliveries as GitHub sends them: recorded payloads from
 * @octokit/webhooks-examples, signed with real HMAC-SHA256 over the exact body.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

interface ExampleSet {
  readonly name: string;
  readonly examples: Array<Record<string, unknown>>;
}
const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as ExampleSet[];

function example(event: string, pick: (e: Record<string, unknown>) => boolean = () => true): Record<string, unknown> {
  const found = examples.find((s) => s.name === event)?.examples.find(pick);
  if (found === undefined) throw new Error(`no recorded ${event} example`);
  return structuredClone(found);
}

/** The repository the recorded pushes are to. */
export const PUSHED_REPOSITORY = 'Codertocat/Hello-World';

/** A recorded branch push, moved to `branch` (and to `repository`, if given), whose one commit changed `files`. */
export function pushPayload(
  branch: string,
  files: { added?: string[]; modified?: string[] },
  after: string,
  repository?: string,
): string {
  const push = example('push', (e) => String(e['ref']).startsWith('refs/heads/'));
  if ((push['repository'] as { full_name: string }).full_name !== PUSHED_REPOSITORY)
    throw new Error('the recorded push is to another repository than PUSHED_REPOSITORY');
  if (repository !== undefined) push['repository'] = { ...(push['repository'] as object), full_name: repository };
  const commit = { ...(push['commits'] as Array<Record<string, unknown>>)[0], id: after, added: [], removed: [] };
  return JSON.stringify({
    ...push,
    ref: `refs/heads/${branch}`,
    after,
    commits: [{ ...commit, modified: [], ...files }],
    head_commit: { ...commit, modified: [], ...files },
  });
}

export function pingPayload(): string {
  return JSON.stringify(example('ping'));
}

export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface Delivery {
  readonly event: string;
  readonly body: string | Buffer;
  /** The secret to sign with; null sends no signature. */
  readonly secret: string | null;
  readonly id?: string;
}

/** POSTs a delivery the way GitHub does; returns the status and the answer. */
export async function deliver(url: string, d: Delivery): Promise<{ status: number; text: string; id: string }> {
  const id = d.id ?? randomUUID();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/test',
    'x-github-event': d.event,
    'x-github-delivery': id,
  };
  if (d.secret !== null) headers['x-hub-signature-256'] = signature(d.secret, d.body);
  const res = await fetch(url, { method: 'POST', headers, body: d.body });
  return { status: res.status, text: await res.text(), id };
}
