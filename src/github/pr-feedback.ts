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
  readonly login: string | undefined;
}

function asComment(v: unknown): Comment | undefined {
  const c = v as { id?: unknown; body?: unknown; user?: { type?: unknown; login?: unknown } | null } | null;
  if (typeof c !== 'object' || c === null || typeof c.id !== 'number' || typeof c.body !== 'string') return undefined;
  const login = typeof c.user?.login === 'string' ? c.user.login : undefined;
  return { id: c.id, body: c.body, bot: c.user?.type === 'Bot', login };
}

/** The user a personal token writes as; undefined for an app's or Actions' token, which GitHub refuses /user. */
async function tokenLogin(octokit: Octokit): Promise<string | undefined> {
  try {
    // Refused for good, not for a while: asked once.
    return (await octokit.rest.users.getAuthenticated({ request: { retries: 0 } })).data.login;
  } catch {
    return undefined;
  }
}

/**
 * Creates the classops comment, or edits the one found by its marker, or leaves it alone
 * when the body is the same. Only a comment this token could have written counts (a bot's,
 * or the token's own user's): a student who posts the marker first never gets the verdict
 * written into a comment they can edit. Two runs at once can each create one; the later
 * ones are deleted, so the pull request is back to one comment.
 */
export async function upsertComment(
  octokit: Octokit,
  pr: PullRequestRef,
  body: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  const ref = { owner: pr.owner, repo: pr.repo };
  const all = (
    await octokit.paginate(octokit.rest.issues.listComments, { ...ref, issue_number: pr.number, per_page: 100 })
  ).flatMap((c) => asComment(c) ?? []);
  const marked = all.filter((c) => c.body.startsWith(COMMENT_MARKER));
  const me = marked.some((c) => !c.bot) ? await tokenLogin(octokit) : undefined;
  const [existing, ...extra] = marked.filter((c) => c.bot || (me !== undefined && c.login === me));
  if (existing === undefined) {
    await octokit.rest.issues.createComment({ ...ref, issue_number: pr.number, body });
    return 'created';
  }
  for (const stale of extra) await octokit.rest.issues.deleteComment({ ...ref, comment_id: stale.id }).catch(() => 0);
  if (existing.body === body) return 'unchanged';
  await octokit.rest.issues.updateComment({ ...ref, comment_id: existing.id, body });
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
