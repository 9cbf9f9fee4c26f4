/**
 * `classops run`: the controller. Without a named cluster it runs the embedded default:
 * the bundled students/ folder in, ./out/manifests out, with the cluster's safety rules.
 */
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { durationMs, loadConfig, type ClassopsConfig } from '../config.js';
import type { ClusterConnection } from '../cluster/connect.js';
import { DirectoryTarget } from '../cluster/directory.js';
import { clusterNamed } from '../cluster/kube.js';
import type { LeaderElector, LeaderOptions } from '../cluster/leader.js';
import type { Target } from '../cluster/target.js';
import { describeRef, refOf } from '../cluster/target.js';
import type { ManagedObjectWatcher } from '../cluster/watch.js';
import { Controller } from '../controller/controller.js';
import {
  computePlan,
  leftBehindText,
  reconcile,
  type ReconcileOutcome,
  type ReconcilerOptions,
} from '../controller/reconciler.js';
import { State } from '../controller/state.js';
import { createLogger, type Logger } from '../observability/log.js';
import { Metrics } from '../observability/metrics.js';
import { studentKey, type HeldRemovals, type StudentPlan } from '../pipeline/desired.js';
import { bySeverity, type Finding } from '../roster/model.js';
import { shown } from '../unsafe-characters.js';
import { ImageChecker } from '../registry/checker.js';
import { DirSource, SETTLE_MS } from '../source/dir.js';
import { GitSource } from '../source/git.js';
import type { Source } from '../source/index.js';
import { commitStatuses, githubWebhook, pollInterval } from './github-hooks.js';
import { EXIT, UsageError, type CommandIO } from './io.js';

/** `once`: one pass asked for now reads the files as they are; a watching controller lets them settle. */
function sourceFor(config: ClassopsConfig, once: boolean): Source {
  const pollMs = durationMs(pollInterval(config));
  if (config.source.kind === 'git') {
    return new GitSource({
      url: config.source.url,
      branch: config.source.branch,
      path: config.source.path,
      tokenFile: config.source.tokenFile,
      sshKeyFile: config.source.sshKeyFile,
      maxFileBytes: config.policy.limits.maxFileBytes,
      pollMs,
      cacheDir: resolve('.classops-cache', 'git'),
    });
  }
  return new DirSource(config.source.path, pollMs, config.policy.limits.maxFileBytes, once ? 0 : SETTLE_MS);
}

/** What `run --once` and `--dry-run` say of a roster file held back at its last-known-good: its first error. */
function heldBackText(file: { readonly file: string; readonly findings: readonly Finding[] }): string | undefined {
  // What holds the file back is a file-level error; an entry's would only hold its student.
  const errors = file.findings.filter((f) => f.severity === 'error');
  const first = errors.find((f) => f.entryIndex === undefined) ?? errors[0];
  if (first === undefined) return undefined;
  return `${shown(file.file, 200)}:${first.line}:${first.column}: ${first.message} Nothing in this week was changed; the last-known-good stays deployed.`;
}

/** What `run --once` and `--dry-run` say of a week whose removals wait on an entry that could be anyone's. */
function heldRemovalsText(h: HeldRemovals): string {
  const [line, ...more] = h.lines;
  const also = more.length > 0 ? ` (as could the entries on line ${more.join(', ')})` : '';
  return `${shown(h.file, 200)}:${line}: ${h.problem} The entry could be what is left of a running student's${also}, so nobody leaves ${h.namespace} until it is fixed or removed; kept for now: ${h.students.map((login) => shown(login)).join(', ')}.`;
}

/**
 * One line per student of a complete roster who does not run what their entry says, and
 * why (an entry with errors, an image the registry could not confirm). Students of files
 * held back, or kept by held removals, are told by those files' lines.
 */
function notAsWrittenLines(
  students: Iterable<StudentPlan>,
  heldFiles: ReadonlySet<string>,
  held: readonly HeldRemovals[],
): string[] {
  const heldStudents = new Set(held.flatMap((h) => h.students.map((login) => studentKey(h.namespace, login))));
  const lines: string[] = [];
  for (const s of students) {
    if (s.deployment === 'deployed' || heldFiles.has(s.file)) continue;
    if (heldStudents.has(studentKey(s.namespace, s.githubUsername))) continue;
    const finding = [...s.findings].sort(bySeverity)[0];
    const where =
      finding === undefined ? shown(s.file, 200) : `${shown(s.file, 200)}:${finding.line}:${finding.column}`;
    const why = s.deployment === 'absent' ? `${s.reason ?? 'not in the roster'}, so it is not deployed` : s.reason;
    const error = finding?.severity === 'error' ? ` (${finding.message})` : '';
    lines.push(`${where}: ${shown(s.githubUsername)}: ${why}${error}`);
  }
  return lines;
}

/** What a finished pass logs: its result, its writes and how long the pass itself took. */
function passFields(outcome: ReconcileOutcome, state: State): Record<string, unknown> {
  // Milliseconds are all a reader needs; the float's last digits are noise.
  const seconds = state.reconcile.durationSeconds;
  return { result: outcome.result, writes: outcome.writes, seconds: seconds && Math.round(seconds * 1000) / 1000 };
}

/**
 * Why a one-off pass must not run against this cluster, or undefined when it may. It takes
 * no Lease, but does not write beside a controller that leads the course (two writers with
 * two configs would undo each other), unless told to prune what that controller's guard refused.
 */
async function leaderInTheWay(
  cluster: ClusterConnection,
  lease: Omit<LeaderOptions, 'onStartedLeading' | 'onStoppedLeading'>,
  allowMassPrune: boolean,
  log: Logger,
): Promise<string | undefined> {
  const idle = { onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
  const leader = await cluster
    .elector({ ...lease, ...idle })
    .currentLeader()
    .catch((error: unknown) => {
      log.warn('could not read the Lease: running once without knowing whether a controller leads', {
        error: (error as Error).message,
      });
      return undefined;
    });
  const where = `Lease ${lease.namespace}/${lease.name}`;
  if (leader === undefined) {
    log.info(`no other classops leads by ${where}`, {
      note: 'a controller installed by the chart keeps its Lease in its own namespace: set cluster.leaderElection.leaseNamespace to it when running from outside the cluster',
    });
    return undefined;
  }
  if (allowMassPrune) {
    log.warn(`${shown(leader)} leads this course (${where}); running once beside it, as --allow-mass-prune asks`);
    return undefined;
  }
  return `${shown(leader)} leads this course (${where}) and reconciles it; a second writer would fight it. See what would change with --dry-run, or stop it first (with --allow-mass-prune, to prune what its guard refused, the pass runs beside it).`;
}

export async function runCommand(args: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      once: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      'allow-mass-prune': { type: 'boolean' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'no-image-checks': { type: 'boolean' },
      config: { type: 'string' },
    },
  });
  const overrides: Record<string, unknown> = {};
  if (values.kubeconfig !== undefined || values.context !== undefined) {
    overrides['cluster'] = {
      ...(values.kubeconfig !== undefined ? { kubeconfig: values.kubeconfig } : {}),
      ...(values.context !== undefined ? { context: values.context } : {}),
    };
  }
  const config = loadConfig({ file: values.config, env: io.env, overrides });
  const log = createLogger(
    io.stderr,
    io.env['CLASSOPS_LOG_FORMAT'] === 'json' ? 'json' : io.env['CLASSOPS_LOG_FORMAT'] === 'text' ? 'text' : undefined,
  );
  const metrics = new Metrics();
  const state = new State();
  // The Kubernetes client is loaded only when a cluster is named.
  const cluster: ClusterConnection | undefined = clusterNamed(config.cluster, io.env)
    ? (await import('../cluster/connect.js')).connectCluster(config.cluster, io.env)
    : undefined;
  const target: Target = cluster?.target ?? new DirectoryTarget(config.cluster.manifestsDir);
  const source = sourceFor(config, values.once === true);
  const images = values['no-image-checks']
    ? undefined
    : new ImageChecker(config.registry, {
        onChecked: (v, s) => {
          metrics.imageChecks.inc({ verdict: v.kind });
          metrics.imageCheckDuration.observe(s);
        },
      });
  const options: ReconcilerOptions = {
    config,
    source,
    target,
    images,
    state,
    metrics,
    log,
    allowMassPrune: values['allow-mass-prune'] === true,
  };
  log.info('classops starting', { source: source.description, target: target.description });

  if (values['dry-run']) {
    const { plan, revision, interpretation, held, leftBehind } = await computePlan(options);
    const lines = [`dry run at revision ${revision} against ${target.description}; nothing was written`];
    for (const o of plan.create) lines.push(`  + create ${describeRef(refOf(o))}`);
    for (const o of plan.update) lines.push(`  ~ update ${describeRef(refOf(o))}`);
    for (const r of plan.prune) lines.push(`  - prune  ${describeRef(r)}`);
    for (const r of plan.refused) lines.push(`  ! refused: ${r.reason}`);
    for (const o of plan.withheld) lines.push(`  ! withheld ${describeRef(refOf(o))} (its week's prunes were refused)`);
    const { students } = interpretation.desired!;
    const heldBack = interpretation.reports.filter((r) => !r.complete);
    for (const file of heldBack) {
      const line = heldBackText(file);
      if (line !== undefined) lines.push(`  ! held back: ${line}`);
    }
    for (const h of held) lines.push(`  ! held: ${heldRemovalsText(h)}`);
    const behind = leftBehindText(config.course, leftBehind);
    if (behind !== undefined) lines.push(`  ! ${behind}`);
    for (const { message } of interpretation.desired!.overQuota) lines.push(`  ! ${message}`);
    const heldFiles = new Set(heldBack.map((r) => r.file));
    for (const line of notAsWrittenLines(students, heldFiles, held)) lines.push(`  ! ${line}`);
    lines.push(
      `${plan.create.length} to create, ${plan.update.length} to update, ${plan.prune.length} to prune, ${plan.unchanged.length} unchanged${plan.refused.length ? `, ${plan.refused.length} prune(s) refused` : ''}${heldBack.length ? `, ${heldBack.length} file(s) held back` : ''}`,
    );
    io.stdout.write(`${lines.join('\n')}\n`);
    // As `--once` would exit: 1 when the pass would refuse or hold back something.
    return plan.refused.length === 0 && heldBack.length === 0 && held.length === 0 ? EXIT.ok : EXIT.findings;
  }
  const lease = cluster && {
    name: config.cluster.leaderElection.leaseName,
    namespace: config.cluster.leaderElection.leaseNamespace || cluster.defaultLeaseNamespace,
    identity: io.env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    leaseDuration: config.cluster.leaderElection.leaseDuration,
    renewInterval: config.cluster.leaderElection.renewInterval,
  };
  if (values.once && cluster && lease && config.cluster.leaderElection.enabled) {
    const inTheWay = await leaderInTheWay(cluster, lease, values['allow-mass-prune'] === true, log);
    if (inTheWay !== undefined) {
      io.stderr.write(`classops run: not running once: ${inTheWay}\n`);
      return EXIT.findings;
    }
  }
  if (values.once) {
    // A signal cancels the pass as it does a running controller's: no write starts after it.
    const cancel = new AbortController();
    const stop = (signal: string) => {
      images?.close();
      cancel.abort(new Error(`stopped by ${signal}; writes under way finished, none started after`));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    try {
      const outcome = await reconcile(options, cancel.signal);
      log.info(`reconciled ${outcome.revision}`, passFields(outcome, state));
      const { plan, done, errors } = outcome;
      const failed = errors.length > 0 ? `, ${errors.length} failed` : '';
      const refused = plan.refused.length ? `; refused: ${plan.refused.map((r) => r.reason).join(' ')}` : '';
      const clean = outcome.heldBack.length === 0 && outcome.heldRemovals.length === 0;
      // Every write went through, yet some of the roster waits (the lines below say why): exit 1.
      const result = outcome.result === 'success' && !clean ? 'held back' : outcome.result;
      io.stdout.write(
        `${result} at revision ${outcome.revision}: ${done.created} created, ${done.updated} updated, ${done.pruned} pruned, ${plan.unchanged.length} unchanged${failed}${refused}\n`,
      );
      for (const error of outcome.errors) io.stderr.write(`${error}\n`);
      for (const file of outcome.heldBack) {
        const line = heldBackText(file);
        if (line !== undefined) io.stderr.write(`${line}\n`);
      }
      for (const h of outcome.heldRemovals) io.stderr.write(`${heldRemovalsText(h)}\n`);
      const behind = leftBehindText(config.course, outcome.leftBehind);
      if (behind !== undefined) io.stderr.write(`${behind}\n`);
      const heldFiles = new Set(outcome.heldBack.map((f) => f.file));
      for (const line of notAsWrittenLines(state.students.values(), heldFiles, outcome.heldRemovals))
        io.stderr.write(`${line}\n`);
      return outcome.result === 'success' && clean ? EXIT.ok : EXIT.findings;
    } catch (error) {
      const what = cancel.signal.aborted ? 'reconcile cancelled' : 'reconcile failed, nothing was changed';
      io.stderr.write(`classops run: ${what}: ${(error as Error).message}\n`);
      return EXIT.findings;
    }
  }

  const statuses = await commitStatuses(config, source, { metrics, log });
  const controller = new Controller({
    ...options,
    resyncMs: durationMs(config.cluster.resyncInterval),
    onOutcome: (o) => {
      if (o instanceof Error) return;
      log.info(`reconciled ${o.revision}`, passFields(o, state));
      statuses?.observe(state);
    },
  });

  // Loaded here: `run --once` serves nothing, and express is a tenth of its start-up.
  const { createApp, listen } = await import('../controller/server.js');
  // The gallery from State, on this port too: `npm start` shows it with no cluster.
  const gallery = (await import('../gallery/gallery.js')).galleryFromState(state, config, metrics);
  let elector: LeaderElector | undefined;
  // A push that reaches a follower is passed on to the leader, which alone reconciles.
  const onPush = () => {
    if (elector === undefined || elector.isLeader) return controller.trigger();
    elector.requestPass().then(
      () => log.info('webhook push passed on to the leader'),
      (error: unknown) =>
        log.warn('could not pass the push on to the leader; its next poll finds it', {
          error: (error as Error).message,
        }),
    );
  };
  // The port first: a busy port is an error at start, not a controller nobody can see.
  let server: Server;
  try {
    server = await listen(
      createApp({
        state,
        metrics,
        // Ready after a first pass while leading, or while following a leader it reads in the
        // Lease; a replica that cannot read the Lease is not, whatever it did before.
        ready: () =>
          elector === undefined
            ? state.reconcile.result !== undefined
            : elector.followsLeader || (elector.isLeader && state.reconcile.result !== undefined),
        webhook: await githubWebhook(config, { metrics, log, onPush: () => onPush() }),
        gallery: gallery.router,
      }),
      config.server.port,
      config.server.host,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new UsageError(`port ${config.server.port} is in use (server.port); stop what uses it or choose another`);
    throw error;
  }
  const address = server.address();
  log.info('serving /healthz, /readyz, /metrics, /api/status', {
    port: typeof address === 'object' && address !== null ? address.port : config.server.port,
    manifests: cluster ? undefined : config.cluster.manifestsDir,
  });

  let watcher: ManagedObjectWatcher | undefined;
  const startLeading = () => {
    metrics.leader.set(1);
    log.info('leading: reconciling');
    controller.start();
    watcher = cluster?.watcher(() => controller.trigger());
    watcher?.start();
  };
  if (cluster && lease && config.cluster.leaderElection.enabled) {
    elector = cluster.elector({
      ...lease,
      onStartedLeading: startLeading,
      onLeaseProblem: (problem) =>
        problem === undefined
          ? log.info('the Lease can be read and written again')
          : log.error('cannot take or renew the Lease: this replica neither leads nor follows while this lasts', {
              lease: `${lease.namespace}/${lease.name}`,
              error: problem,
            }),
      onPassRequested: () => {
        log.info('a follower passed on a push: reconcile queued');
        controller.trigger();
      },
      onStoppedLeading: () => {
        metrics.leader.set(0);
        log.warn('lost the lease: stopped reconciling');
        watcher?.stop();
        void controller.stop();
      },
    });
    elector.start();
  } else {
    startLeading();
  }

  await new Promise<void>((resolveStop) => {
    const shutdown = (signal: string) => {
      log.info(`${signal}: finishing the current reconcile${elector === undefined ? '' : ' and releasing the lease'}`);
      void (async () => {
        watcher?.stop();
        images?.close();
        // The lease is released only once the pass has stopped writing; otherwise it runs out on its own.
        if (await controller.stop()) await elector?.release();
        else elector?.stop();
        await gallery.stop();
        server.close(() => resolveStop());
        server.closeAllConnections();
      })();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return EXIT.ok;
}
