/** Posting a pull request's verdict: the one comment (created, then edited) and the check run. */
import type { Octokit } from 'octokit';
import { COMMENT_MARKER, type Annotation } from './pr-comment.js';

/** GitHub accepts at most 50 annotations per request. */
const ANNOTATION_BATCH = 50;

export interface PullRequestRef {
  readonly owner: string;
  readonly repo: string;
  readonly number: number;
}

interface Comment {
  readonly id: number;
  readonly body: string;
  readonly bot: boolean;
}

function asComment(v: unknown): Comment | undefined {
  const c = v as { id?: unknown; body?: unknown; user?: { type?: unknown } | null } | null;
  if (typeof c !== 'object' || c === null || typeof c.id !== 'number' || typeof c.body !== 'string') return undefined;
  return { id: c.id, body: c.body, bot: c.user?.type === 'Bot' };
}

/**
 * Creates the classops comment, or edits the one found by its marker (a bot's first, so a
 * person quoting the marker cannot take it over), or leaves it alone when the body is the same.
 */
export async function upsertComment(
  octokit: Octokit,
  pr: PullRequestRef,
  body: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  const all = (
    await octokit.paginate(octokit.rest.issues.listComments, {
      owner: pr.owner,
      repo: pr.repo,
      issue_number: pr.number,
      per_page: 100,
    })
  ).flatMap((c) => asComment(c) ?? []);
  const ours = all.filter((c) => c.body.startsWith(COMMENT_MARKER));
  const existing = ours.find((c) => c.bot) ?? ours[0];
  if (existing === undefined) {
    await octokit.rest.issues.createComment({ owner: pr.owner, repo: pr.repo, issue_number: pr.number, body });
    return 'created';
  }
  if (existing.body === body) return 'unchanged';
  await octokit.rest.issues.updateComment({ owner: pr.owner, repo: pr.repo, comment_id: existing.id, body });
  return 'updated';
}

export interface CheckRunOutput {
  readonly conclusion: 'success' | 'failure';
  readonly title: string;
  readonly summary: string;
  readonly annotations: readonly Annotation[];
}

/** A completed check run `classops` on the PR's head commit, its annotations sent 50 at a time. */
export async function postCheckRun(
  octokit: Octokit,
  repository: { owner: string; repo: string },
  headSha: string,
  output: CheckRunOutput,
): Promise<number> {
  const batches: Annotation[][] = [];
  for (let i = 0; i < output.annotations.length; i += ANNOTATION_BATCH)
    batches.push(output.annotations.slice(i, i + ANNOTATION_BATCH));
  const text = { title: output.title, summary: output.summary.slice(0, 65_000) };
  const created = await octokit.rest.checks.create({
    ...repository,
    name: 'classops',
    head_sha: headSha,
    status: 'completed',
    conclusion: output.conclusion,
    output: { ...text, annotations: batches[0] ?? [] },
  });
  const id = (created.data as { id?: unknown }).id;
  if (typeof id !== 'number') throw new Error('GitHub answered a check run without an id');
  for (const batch of batches.slice(1))
    await octokit.rest.checks.update({ ...repository, check_run_id: id, output: { ...text, annotations: batch } });
  return batches.length;
}
