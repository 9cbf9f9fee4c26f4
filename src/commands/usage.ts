/**
 * The usage texts of the commands, apart from their code: `classops <command> --help`
 * prints them without loading what the command needs to run.
 */
export const validateUsage = `Usage: classops validate [paths...] [options]

Checks roster files (default: the configured source folder, students/).

Options:
  --format text|json|github|markdown   output shape (default text; github prints workflow annotations)
  --changed-since REF                  judge only entries added or changed since a git ref,
                                       by the rules of REF's classops.yaml
  --author LOGIN                       judge as LOGIN's pull request: fail changes to others'
                                       entries, new or deleted roster files, header changes,
                                       files grown by more than policy.limits.maxGrowthBytes,
                                       changes outside the roster folders and to classops.yaml,
                                       unless LOGIN is an instructor
  --check-images                       check that every image can be pulled anonymously (network)
  --config PATH                        config file (default ./classops.yaml when present)

Exit codes: 0 valid (warnings allowed), 1 errors found, 2 usage or I/O error.`;

export const renderUsage = `Usage: classops render [paths...] --out DIR|- [options]

Renders every valid entry into Kubernetes objects. Invalid entries are left out and
reported as "classops validate" reports them (on stderr).

Options:
  --out DIR|-         write a folder (one file per student, the week's shared objects,
                      kustomization.yaml), or - for one multi-document stream on stdout
  --revision REV      source revision recorded on every object (default: a hash of the roster files)
  --check-images      check every image; pin pullable ones by digest, leave out the student's faults
                      (private, not found, wrong platform); registry outages only warn
  --config PATH       config file (default ./classops.yaml when present)

Exit codes: 0 everything rendered, 1 something was left out, 2 usage or I/O error.`;

export const checkImageUsage = `Usage: classops check-image REF [--format text|json] [--config PATH]

Checks that REF can be pulled anonymously, as the cluster will pull it: the registry's
token flow, the manifest, and the platforms it runs on (registry.requiredPlatform).

Exit codes: 0 pullable, 1 not pullable or not checked (registry down or rate-limited), 2 usage error.`;

export const runUsage = `Usage: classops run [options]

Keeps the cluster (or ./out/manifests) equal to the rosters: validates, checks images,
renders, applies with server-side apply, prunes with a guard, heals drift.

Options:
  --once                one reconcile, then exit (0 success; 1 when a write failed or was
                        refused, a roster file or a week's removals were held back, or
                        the pass could not run)
  --dry-run             print what would be applied and pruned; write nothing (exit 1 when
                        the pass would refuse or hold back something)
  --allow-mass-prune    let this run prune more than cluster.maxPruneFraction of a week
  --kubeconfig PATH     the cluster to manage (only a named cluster is ever written to)
  --context NAME        a context of the kubeconfig
  --no-image-checks     skip registry checks (images are deployed as written)
  --config PATH         config file (default ./classops.yaml when present)
`;

export const prReportUsage = `Usage: classops pr-report [paths...] [options]

Judges a pull request as "validate --changed-since BASE --author LOGIN" does (by the base's
classops.yaml) and posts the verdict: one comment, edited on every push, and a check run
"classops" with an annotation per finding. Reads the GitHub Actions environment
(GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL); flags override it.

Options:
  --base REF            the PR's base revision (default: HEAD^1 when HEAD merges the PR's head, else the event's pull_request.base.sha)
  --author LOGIN        the PR's author (default: the event's pull_request.user.login)
  --repository O/NAME   the repository (default: GITHUB_REPOSITORY)
  --pr NUMBER           the pull request (default: from the event)
  --sha SHA             the PR's head commit, for the check run (default: from the event);
                        with --from-report the judged commit, required outside workflow_run
  --from-report FILE    post a report written earlier by "validate --format json" (the
                        second stage of the fork workflow); nothing is checked out or judged.
                        Posted only when the PR's head is the judged commit, and replaced
                        by a failing check (report-untrusted) when a fork's PR changes
                        .github/ or more files than GitHub lists
  --branch BRANCH       with --from-report: the branch classops deploys (default: the
                        repository's default branch); a fork's PR into another is not trusted
  --check-images        check that every image can be pulled anonymously (network)
  --timeout DURATION    how long one GitHub request may take, its whole answer included,
                        1s to 1h (default 20s); a request GitHub never answers is not retried
  --config PATH         config file (default ./classops.yaml when present)

Exit codes: 0 the PR's entries are valid, 1 they have errors, 2 usage or I/O error.
GitHub being unreachable, rate limited or read-only is a warning, never an error; with
--from-report, a report that cannot be read or GitHub not answering fails the judged
commit's check ("Not verified") and exits 2, and a run for an earlier commit exits 0.`;

export const galleryUsage = `Usage: classops gallery [options]

Serves /gallery and /api/students: what every student's /student answers, checked in the
background (time limit, size cap, no redirects), with /healthz, /readyz and /metrics.

Options:
  --targets FILE        a JSON array of {"github_username", "url", "name"?, "week"?}, re-read on change
                        (without it: the Services classops manages in the cluster)
  --port N              port to listen on (default gallery.port, 8081)
  --config PATH         config file (default ./classops.yaml when present)
`;
