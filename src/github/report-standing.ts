/**
 * What stage 2 of the fork workflow can verify of the report stage 1 uploaded, from
 * GitHub's own answers rather than the report: that the pull request is still at the
 * commit stage 1 judged, and that stage 1 ran the base branch's workflow. A pull request
 * that changes `.github/` ran its own workflow, which can upload any report it likes.
 */
import type { Octokit } from 'octokit';
import type { Finding } from '../roster/model.js';
import { quote } from '../unsafe-characters.js';
import type { PullRequestRef } from './pr-feedback.js';
import type { ReportFile } from './report-file.js';

/** GitHub lists at most this many of a pull request's files, and this many of its commits. */
const MAX_LISTED_FILES = 3000;
const MAX_LISTED_COMMITS = 250;
/** Where workflows and the actions they use live: a change here may have changed stage 1 itself. */
const WORKFLOW_FOLDER = '.github/';
/** The folder itself too: a link or file put in its place is as much a change to it. */
const inWorkflowFolder = (path: string | undefined): path is string =>
  path !== undefined && (path === WORKFLOW_FOLDER.slice(0, -1) || path.startsWith(WORKFLOW_FOLDER));

export type ReportStanding =
  /** Still the pull request's head, and judged by the base branch's workflow: post it. */
  | { readonly kind: 'current' }
  /** An earlier commit of the pull request: the run for its new head posts the verdict. */
  | { readonly kind: 'superseded'; readonly head: string }
  /** Not a commit of this pull request: the report was aimed at another one. */
  | { readonly kind: 'foreign' }
  /** The head, but stage 1 may have run the pull request's own workflow: its report proves nothing. */
  | { readonly kind: 'untrusted'; readonly findings: readonly Finding[] };

type Json = Record<string, unknown>;
const stringAt = (v: unknown, key: string): string | undefined => {
  const value = typeof v === 'object' && v !== null ? (v as Json)[key] : undefined;
  return typeof value === 'string' ? value : undefined;
};

/** The pull request's head commit now, as GitHub says, or undefined when its answer has none. */
export async function headOf(octokit: Octokit, pr: PullRequestRef): Promise<string | undefined> {
  const { data } = await octokit.rest.pulls.get({ owner: pr.owner, repo: pr.repo, pull_number: pr.number });
  return stringAt(data.head, 'sha');
}

const repositoryOf = (side: unknown) =>
  stringAt(typeof side === 'object' && side !== null ? (side as Json)['repo'] : undefined, 'full_name');

/**
 * `deploys` is the branch classops deploys: stage 1 judged the pull request against its
 * base, so a base that is another branch means other rules and another stage 1. A pull
 * request from a branch of the course repository itself is trusted as far as its author's
 * write access goes (instructors, GitHub's own bots): only forks are held to these checks.
 * Everything GitHub does not answer plainly counts against.
 */
export async function reportStanding(
  octokit: Octokit,
  pr: PullRequestRef,
  judged: string,
  deploys: string | undefined,
): Promise<ReportStanding> {
  const ref = { owner: pr.owner, repo: pr.repo, pull_number: pr.number, per_page: 100 };
  const { data } = await octokit.rest.pulls.get({ owner: pr.owner, repo: pr.repo, pull_number: pr.number });
  const head = stringAt(data.head, 'sha');
  if (head !== judged) {
    const commits = await octokit.paginate(octokit.rest.pulls.listCommits, ref);
    const earlier = commits.slice(0, MAX_LISTED_COMMITS).some((c) => stringAt(c, 'sha') === judged);
    return earlier && head !== undefined ? { kind: 'superseded', head } : { kind: 'foreign' };
  }
  const course = repositoryOf(data.base);
  if (course !== undefined && repositoryOf(data.head) === course) return { kind: 'current' };
  const findings: Finding[] = [];
  const base = stringAt(data.base, 'ref');
  if (deploys !== undefined && base !== deploys)
    findings.push(
      untrusted(
        WORKFLOW_FOLDER,
        `This pull request targets ${quote(base ?? '(no branch)')}, not ${quote(deploys)}, the branch classops deploys; the check that judged it used that branch's rules and may have run`,
        `Change the pull request's base branch to ${deploys}; the check then runs again.`,
      ),
    );
  const files = (await octokit.paginate(octokit.rest.pulls.listFiles, ref)).slice(0, MAX_LISTED_FILES);
  const paths = files.flatMap((f) => [stringAt(f, 'filename'), stringAt(f, 'previous_filename')]);
  for (const path of new Set(paths.filter(inWorkflowFolder)))
    findings.push(
      untrusted(
        path,
        `This pull request changes ${quote(path)}, so the check that judged it ran`,
        `Remove the changes under ${WORKFLOW_FOLDER} from your pull request; an instructor reviews and merges pull requests that need them.`,
      ),
    );
  const changed = data.changed_files;
  if (!Number.isSafeInteger(changed) || files.length < changed)
    findings.push(
      untrusted(
        WORKFLOW_FOLDER,
        `${Number.isSafeInteger(changed) ? `This pull request changes ${changed} files, more than GitHub lists (${files.length})` : 'GitHub does not say how many files this pull request changes'}; whether it changes ${WORKFLOW_FOLDER} cannot be told, so the check that judged it may have run`,
        'Split the pull request into smaller ones; a change this large is for an instructor to review and merge.',
      ),
    );
  return findings.length === 0 ? { kind: 'current' } : { kind: 'untrusted', findings };
}

function untrusted(file: string, opening: string, hint: string): Finding {
  return {
    code: 'report-untrusted',
    severity: 'error',
    message: `${opening} the pull request's own workflow, and its verdict cannot be trusted.`,
    hint,
    file,
    line: 1,
    column: 1,
  };
}

/** The report to post instead of stage 1's, which may say anything: only what GitHub showed. */
export function untrustedReport(findings: readonly Finding[]): ReportFile[] {
  return findings.map((finding) => ({ file: finding.file, entries: [], findings: [finding] }));
}
