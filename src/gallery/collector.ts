/**
 * Keeps what every student's `/student` last said. Fetches run in the background, at most
 * `concurrency` at once, every refresh interval with jitter; a page request only reads
 * the latest snapshot and never waits for a pod. The last live answer is kept through
 * failures, with when it was seen and why the app is not live now.
 */
import { Agent } from 'undici';
import { Limiter } from '../concurrency.js';
import type { Metrics } from '../observability/metrics.js';
import { weekLabel } from '../render/names.js';
import { fetchStudent, type FetchOutcome } from './fetch-student.js';
import type { GalleryStatus, StudentAnswer } from './student-answer.js';
import type { GalleryTarget, TargetSource } from './targets.js';

export interface CollectorOptions {
  readonly timeoutMs: number;
  readonly refreshMs: number;
  readonly maxBodyBytes: number;
  readonly concurrency: number;
  readonly metrics?: Metrics | undefined;
  /** How often the target list is compared with what is collected (new targets are fetched at once). */
  readonly syncMs?: number;
}

export interface StudentRecord {
  readonly target: GalleryTarget;
  readonly status: GalleryStatus;
  readonly reason: string | undefined;
  /** The last answer with the right shape (the current one when live or mismatch). */
  readonly answer: StudentAnswer | undefined;
  readonly checkedAt: string | undefined;
  readonly lastLiveAt: string | undefined;
}

export interface Snapshot {
  /** Changes whenever anything in `students` does: what caches key on. */
  readonly version: number;
  readonly updatedAt: string;
  /** Sorted by week, then login. */
  readonly students: readonly StudentRecord[];
}

/** A change of status is published within a second; a check that only moved timestamps, within five (the pages' max-age). */
const SNAPSHOT_MIN_AGE_MS = { status: 1000, timestamps: 5000 } as const;

const sameTarget = (a: GalleryTarget, b: GalleryTarget) =>
  a.url === b.url &&
  a.name === b.name &&
  a.week === b.week &&
  a.githubUsername === b.githubUsername &&
  a.known?.status === b.known?.status &&
  a.known?.reason === b.known?.reason;

export class Collector {
  private readonly records = new Map<string, StudentRecord>();
  private readonly inFlight = new Set<string>();
  private readonly limiter: Limiter;
  private readonly dispatcher: Agent;
  private version = 0;
  private updatedAt = new Date().toISOString();
  private cached: Snapshot | undefined;
  private cachedAt = 0;
  /** Whether anything but checkedAt / lastLiveAt changed since the cached snapshot. */
  private statusChanged = false;
  private roundTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly source: TargetSource,
    private readonly options: CollectorOptions,
  ) {
    this.limiter = new Limiter(options.concurrency);
    // A socket for every fetch the limiter lets run, per origin: when every student sits
    // behind one ingress host, a fetch never waits for a socket a hanging app holds, so
    // its time limit measures its own app alone.
    this.dispatcher = new Agent({
      connections: options.concurrency,
      keepAliveTimeout: 4_000,
      // An app's `Keep-Alive: timeout=600` would otherwise hold an idle socket for ten minutes.
      keepAliveMaxTimeout: 4_000,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  start(): void {
    void this.round();
    this.syncTimer = setInterval(() => this.sync(), this.options.syncMs ?? 1_000);
    this.syncTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.roundTimer);
    clearInterval(this.syncTimer);
    await this.dispatcher.destroy();
  }

  /** Brings the records in line with the targets; new or changed targets are fetched now. */
  sync(): void {
    if (this.stopped) return;
    const targets = this.source.current();
    const keys = new Set<string>();
    const fresh: GalleryTarget[] = [];
    for (const target of targets) {
      keys.add(target.key);
      const record = this.records.get(target.key);
      if (record !== undefined && sameTarget(record.target, target)) continue;
      const keep = record !== undefined && record.target.url === target.url && target.known === undefined;
      this.set({
        target,
        status: target.known?.status ?? (keep ? record.status : 'pending'),
        reason: target.known?.reason ?? (keep ? record.reason : undefined),
        answer: keep ? record.answer : undefined,
        checkedAt: keep ? record.checkedAt : undefined,
        lastLiveAt: keep ? record.lastLiveAt : undefined,
      });
      if (target.known === undefined && !keep) fresh.push(target);
    }
    for (const key of [...this.records.keys()]) {
      if (!keys.has(key)) {
        this.records.delete(key);
        this.changed();
      }
    }
    for (const target of fresh) void this.check(target);
  }

  /** Fetches every target once (at most `concurrency` at a time), then schedules the next round. */
  async round(): Promise<void> {
    this.sync();
    await Promise.all(this.source.current().map((t) => this.check(t)));
    if (this.stopped) return;
    // ±20% jitter, so replicas and restarts do not fetch every pod in step.
    const delay = this.options.refreshMs * (0.8 + Math.random() * 0.4);
    this.roundTimer = setTimeout(() => void this.round(), delay);
    this.roundTimer.unref();
  }

  private async check(target: GalleryTarget): Promise<void> {
    if (target.url === undefined || target.known !== undefined || this.inFlight.has(target.key)) return;
    this.inFlight.add(target.key);
    try {
      const outcome = await this.limiter.run(async () => {
        if (this.stopped) return undefined;
        const started = performance.now();
        const result = await fetchStudent(target.url!, target.githubUsername, {
          timeoutMs: this.options.timeoutMs,
          maxBodyBytes: this.options.maxBodyBytes,
          dispatcher: this.dispatcher,
        });
        this.options.metrics?.galleryFetchDuration.observe((performance.now() - started) / 1000);
        this.options.metrics?.galleryFetches.inc({ status: result.status });
        return result;
      });
      if (outcome !== undefined) this.record(target, outcome);
    } finally {
      this.inFlight.delete(target.key);
    }
  }

  private record(target: GalleryTarget, outcome: FetchOutcome): void {
    const previous = this.records.get(target.key);
    // The target may have gone or moved while the fetch ran: its answer no longer applies.
    if (this.stopped || previous === undefined || previous.target.url !== target.url) return;
    const now = new Date().toISOString();
    const answer = outcome.answer ?? previous.answer;
    const same =
      previous.status === outcome.status &&
      previous.reason === outcome.reason &&
      JSON.stringify(previous.answer) === JSON.stringify(answer);
    this.set(
      {
        target: previous.target,
        status: outcome.status,
        reason: outcome.reason,
        answer,
        checkedAt: now,
        lastLiveAt: outcome.status === 'live' ? now : previous.lastLiveAt,
      },
      same ? 'timestamps' : 'status',
    );
  }

  private set(record: StudentRecord, what: 'status' | 'timestamps' = 'status'): void {
    this.records.set(record.target.key, record);
    this.changed(what);
  }

  private changed(what: 'status' | 'timestamps' = 'status'): void {
    if (what === 'status') this.statusChanged = true;
    this.version += 1;
    this.updatedAt = new Date().toISOString();
    this.publishLive();
  }

  /**
   * The students as last published. Every fetch changes a record (its checkedAt), so
   * snapshots are rate-limited: pages and their caches are rebuilt once a second at most
   * when a status changed, and every five seconds when only timestamps did, however many
   * pods answer in between.
   */
  snapshot(): Snapshot {
    const now = performance.now();
    const minAge = SNAPSHOT_MIN_AGE_MS[this.statusChanged ? 'status' : 'timestamps'];
    if (this.cached === undefined || (this.cached.version !== this.version && now - this.cachedAt >= minAge)) {
      this.statusChanged = false;
      const students = [...this.records.values()].sort(
        (a, b) =>
          (a.target.week ?? Infinity) - (b.target.week ?? Infinity) ||
          a.target.githubUsername.toLowerCase().localeCompare(b.target.githubUsername.toLowerCase()),
      );
      this.cached = { version: this.version, updatedAt: this.updatedAt, students };
      this.cachedAt = now;
    }
    return this.cached;
  }

  private publishLive(): void {
    const gauge = this.options.metrics?.galleryStudentsLive;
    if (gauge === undefined) return;
    const byWeek = new Map<string, number>();
    for (const s of this.records.values()) {
      const week = s.target.week === undefined ? 'none' : weekLabel(s.target.week);
      byWeek.set(week, (byWeek.get(week) ?? 0) + (s.status === 'live' ? 1 : 0));
    }
    gauge.reset();
    for (const [week, live] of byWeek) gauge.set({ week }, live);
  }
}
