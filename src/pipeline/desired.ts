/**
 * What should run, decided per student from the validated rosters, the image verdicts and
 * the last-known-good. Pure. The rules:
 * - a roster that is not complete changes nothing in the namespaces it could own: their
 *   students keep their last-known-good, and nothing there is pruned;
 * - an entry that could be anyone's (a fragment last in its file, as a cut leaves it, or
 *   one without a readable login: see holdsRemovals) prunes no one from its week until it
 *   is fixed; the week's other changes go on;
 * - an entry with errors (the student's image faults included) is not deployed, but a
 *   student who was running keeps their last-known-good version, and one without (a record
 *   that could not be read back) is left as they run: an entry with errors removes no one;
 * - a transient registry verdict keeps the last-known-good image, and never blocks a new student;
 * - a student in several weeks has the plain `<prefix>/<login>` path on their newest week only.
 */
import type { ClassopsConfig } from '../config.js';
import { isTransient, type Verdict } from '../registry/verdict.js';
import type { KubeObject } from '../render/objects.js';
import { weekObjects } from '../render/tree.js';
import { quotaShortfall, type QuotaShortfall } from '../render/quota-room.js';
import { renderStudents, type RenderedWeek, type StudentToRender, type WeekIdentity } from '../render/week.js';
import { holdsRemovals, type Finding, type RosterReport, type StudentEntry } from '../roster/model.js';
import type { ClaimedWeeks } from './weeks.js';

/** What a student last ran successfully: the fallback while their entry or file is broken. */
export interface LastGood {
  readonly week: WeekIdentity;
  readonly entry: StudentEntry;
  readonly digest: string | undefined;
}

/**
 * deployed: running what the roster says; kept: running what ran before (the last-known-good,
 * or what was found running) because the current entry cannot be used; absent: not deployed.
 */
export type Deployment = 'deployed' | 'kept' | 'absent';

/** What the rosters say about one student, before the cluster says how their app is doing. */
export interface StudentPlan {
  readonly namespace: string;
  readonly week: number;
  readonly file: string;
  readonly githubUsername: string;
  readonly name: string | undefined;
  readonly deployment: Deployment;
  /** Why the student is kept or absent. */
  readonly reason: string | undefined;
  readonly image: string | undefined;
  readonly verdict: Verdict['kind'] | undefined;
  readonly findings: readonly Finding[];
  /** Service and endpoint, for the gallery. */
  readonly service: string | undefined;
  readonly studentEndpoint: string | undefined;
}

export interface DesiredState {
  readonly weeks: readonly RenderedWeek[];
  readonly objects: readonly KubeObject[];
  readonly students: readonly StudentPlan[];
  /** Entries rendered fresh (not last-known-good), to record as the new last-known-good once applied. */
  readonly fresh: ReadonlyMap<string, LastGood>;
  /** Weeks whose removals wait on a fragment, with the last-known-good students they keep (maybe none). */
  readonly held: readonly HeldRemovals[];
  /** What of students not rendered runs on as it is, neither changed nor pruned (PlanOptions.leftAsFound). */
  readonly leftAsFound: LeftAsFound;
  /** Weeks with more students than render.quota lets run, said for the instructor (quotaShortfall). */
  readonly overQuota: readonly QuotaShortfall[];
}

export interface LeftAsFound {
  /** Students (studentKey) whose entry has errors and who have no last-known-good. */
  readonly students: ReadonlySet<string>;
  /** Weeks whose removals are held: every student in them. */
  readonly namespaces: ReadonlySet<string>;
}

/** A week that removes no one while its roster holds entries that could be anyone's. */
export interface HeldRemovals {
  readonly namespace: string;
  readonly file: string;
  /** Lines of those entries. */
  readonly lines: readonly number[];
  /** The first error of the first of them. */
  readonly problem: string;
  /** Logins kept only because of them. */
  readonly students: string[];
}

export const studentKey = (namespace: string, login: string) => `${namespace}/${login.toLowerCase()}`;

interface Pending extends Omit<StudentToRender, 'latest'> {
  readonly identity: WeekIdentity;
}

export function desiredState(
  claimed: ClaimedWeeks,
  verdicts: ReadonlyMap<string, Verdict>,
  lastGood: ReadonlyMap<string, LastGood>,
  config: ClassopsConfig,
  revision: string,
): DesiredState {
  const pending: Pending[] = [];
  const students: StudentPlan[] = [];
  const fresh = new Map<string, LastGood>();
  const weekOf = new Map<string, WeekIdentity>();
  const held = new Map<string, HeldRemovals>();
  const leftAsFound = new Set<string>();
  const plan = (identity: WeekIdentity, login: string, s: Partial<StudentPlan>): StudentPlan => ({
    namespace: identity.namespace,
    week: identity.week,
    file: identity.file,
    githubUsername: login,
    name: undefined,
    deployment: 'absent',
    reason: undefined,
    image: undefined,
    verdict: undefined,
    findings: [],
    service: undefined,
    studentEndpoint: undefined,
    ...s,
  });

  for (const report of claimed.reports) {
    const identity = claimed.identities.get(report.file);
    if (identity === undefined || !report.complete) continue;
    weekOf.set(identity.namespace, identity);
    const fragments = report.entries.filter((e) => holdsRemovals(report, e));
    if (fragments.length > 0) {
      const first = report.findings.find((f) => f.entryIndex === fragments[0]!.index && f.severity === 'error');
      held.set(identity.namespace, {
        namespace: identity.namespace,
        file: identity.file,
        lines: fragments.map((e) => e.line),
        problem: first?.message ?? 'The entry has errors.',
        students: [],
      });
    }
    for (const s of studentsOf(report, identity, verdicts, lastGood)) {
      if (s.render !== undefined) pending.push({ identity, ...s.render });
      if (s.fresh !== undefined) fresh.set(studentKey(identity.namespace, s.fresh.entry.githubUsername), s.fresh);
      if (s.render === undefined) leftAsFound.add(studentKey(identity.namespace, s.login));
      students.push(plan(identity, s.login, s.plan));
    }
  }

  // Namespaces a broken roster could own, or whose roster holds a fragment, keep what ran
  // there and no complete roster still has.
  const decided = new Set(pending.map((p) => studentKey(p.identity.namespace, p.entry.githubUsername)));
  for (const [key, good] of lastGood) {
    const isProtected = claimed.protection.namespaces.has(good.week.namespace);
    const holding = isProtected ? undefined : held.get(good.week.namespace);
    if ((!isProtected && holding === undefined) || decided.has(key)) continue;
    holding?.students.push(good.entry.githubUsername);
    if (!weekOf.has(good.week.namespace)) weekOf.set(good.week.namespace, good.week);
    pending.push({
      identity: weekOf.get(good.week.namespace)!,
      entry: good.entry,
      digest: good.digest,
      line: 1,
      index: undefined,
    });
    students.push(
      plan(good.week, good.entry.githubUsername, {
        name: good.entry.name,
        deployment: 'kept',
        reason:
          holding === undefined
            ? 'the roster file has errors; keeping the last-known-good version'
            : `${holding.lines.length === 1 ? 'an entry with errors on line' : 'entries with errors on lines'} ${holding.lines.join(', ')} of ${holding.file} could be what is left of this student's; keeping the last-known-good version until fixed or removed`,
        image: good.entry.containerImage,
      }),
    );
  }

  // The plain path belongs to each student's newest week (ties: the later namespace).
  const newest = new Map<string, WeekIdentity>();
  for (const p of pending) {
    const login = p.entry.githubUsername.toLowerCase();
    const best = newest.get(login);
    if (
      best === undefined ||
      p.identity.week > best.week ||
      (p.identity.week === best.week && p.identity.namespace > best.namespace)
    )
      newest.set(login, p.identity);
  }
  const weeks = [...weekOf.values()]
    .sort((a, b) => (a.namespace < b.namespace ? -1 : 1))
    .map((identity) =>
      renderStudents(
        identity,
        pending
          .filter((p) => p.identity.namespace === identity.namespace)
          .map(({ identity: _identity, ...p }) => ({
            ...p,
            latest: newest.get(p.entry.githubUsername.toLowerCase())?.namespace === identity.namespace,
          })),
        config,
        revision,
      ),
    );
  const rendered = new Map(
    weeks.flatMap((w) => w.students.map((r) => [studentKey(w.namespace, r.student), r] as const)),
  );
  const withService = students.map((s) => {
    const r = rendered.get(studentKey(s.namespace, s.githubUsername));
    if (r === undefined) return { ...s, deployment: 'absent' as const, reason: s.reason ?? 'not rendered' };
    return {
      ...s,
      image: r.image,
      service: r.objects.service.metadata.name,
      studentEndpoint: r.entry.studentEndpoint,
    };
  });
  return {
    weeks,
    objects: weeks.flatMap(weekObjects),
    students: withService,
    fresh,
    held: [...held.values()],
    leftAsFound: { students: leftAsFound, namespaces: new Set(held.keys()) },
    overQuota: weeks.flatMap((week) => quotaShortfall(week, config.render) ?? []),
  };
}

interface StudentOutcome {
  readonly login: string;
  readonly render: Omit<StudentToRender, 'latest'> | undefined;
  readonly fresh: LastGood | undefined;
  readonly plan: Partial<StudentPlan>;
}

/** Each entry of a complete roster: deployed as written, kept at its last-known-good, or absent. */
function studentsOf(
  report: RosterReport,
  identity: WeekIdentity,
  verdicts: ReadonlyMap<string, Verdict>,
  lastGood: ReadonlyMap<string, LastGood>,
): StudentOutcome[] {
  const outcomes: StudentOutcome[] = [];
  const seen = new Set<string>();
  for (const result of report.entries) {
    const login = result.githubUsername;
    if (login === undefined) continue;
    const key = studentKey(identity.namespace, login);
    if (seen.has(key)) continue; // duplicates are errors on both entries; last-known-good decides below
    seen.add(key);
    const findings = report.findings.filter((f) => f.entryIndex === result.index);
    const previous = lastGood.get(key);
    const entry = result.entry;
    const verdict = entry === undefined ? undefined : verdicts.get(entry.containerImage);
    const base = { findings, verdict: verdict?.kind };
    const at = { line: result.line, index: result.index };
    // An image the registry cannot speak for now keeps the digest it last confirmed; the
    // rest of the entry goes ahead (a port fix need not wait out an outage).
    const unconfirmed = verdict !== undefined && isTransient(verdict);
    const sameImage = previous !== undefined && previous.entry.containerImage === entry?.containerImage;
    if (entry !== undefined && (!unconfirmed || previous === undefined || sameImage)) {
      const digest = verdict?.kind === 'pullable' ? verdict.digest : unconfirmed ? previous?.digest : undefined;
      outcomes.push({
        login: entry.githubUsername,
        render: { entry, digest, ...at },
        fresh: { week: identity, entry, digest },
        plan: { ...base, name: entry.name, deployment: 'deployed', image: entry.containerImage },
      });
    } else if (previous !== undefined) {
      const reason =
        entry !== undefined
          ? `the registry could not confirm the new image (${verdict?.kind}); keeping the last-known-good version`
          : 'the entry has errors; keeping the last-known-good version';
      outcomes.push({
        login: previous.entry.githubUsername,
        render: { entry: previous.entry, digest: previous.digest, ...at },
        fresh: undefined,
        plan: { ...base, name: previous.entry.name, deployment: 'kept', reason, image: previous.entry.containerImage },
      });
    } else {
      outcomes.push({
        login,
        render: undefined,
        fresh: undefined,
        plan: { ...base, name: result.name, reason: 'the entry has errors' },
      });
    }
  }
  return outcomes;
}
