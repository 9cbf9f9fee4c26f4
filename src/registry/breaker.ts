/**
 * A circuit breaker per registry. A registry that stops answering would make every check
 * of a pass wait registry.timeout (1 000 students behind a dead host: ten minutes), and
 * so would one that leaves only some requests unanswered. When the last few attempts all
 * got no answer, or a quarter of the recent ones did, the other checks are told at once,
 * as unreachable, which is never cached and keeps every running student's last-known-good
 * image; after a pause, one check asks again, and an answer closes the breaker.
 */
import type { Verdict } from './verdict.js';

/** Attempts in a row without an answer that open the breaker: a registry that is down. */
const FAILURES_IN_A_ROW = 3;
/** Attempts remembered, and how many of them unanswered open the breaker: a registry that is sick. */
const WINDOW = 20;
const FAILURES_IN_WINDOW = 5;
const PAUSE_MS = 30_000;

/** A check's verdict, and whether the registry gave no answer at all (time-out, refused, DNS, TLS). */
export interface CheckOutcome {
  readonly verdict: Verdict;
  readonly unanswered: boolean;
  /**
   * The error of the request that got no answer. Checks running at once share a ping, and
   * fail with the same error: one dropped request is one failure, however many checks it failed.
   */
  readonly failure?: object;
}

export class Breaker {
  /** The recent attempts, oldest first: true for one that got no answer. */
  private recent: boolean[] = [];
  private readonly counted = new WeakSet<object>();
  private lastReason = '';
  private openedFor = '';
  private openedAt: number | undefined;
  private probing = false;

  /** `now` must not jump: a monotonic clock (performance.now), or a test's. */
  constructor(private readonly now: () => number) {}

  /** Runs `check` unless the breaker is open; then the verdict is given without asking. */
  async run(check: () => Promise<CheckOutcome>): Promise<Verdict> {
    const probe = this.openedAt !== undefined;
    if (probe && (this.probing || this.now() - this.openedAt! < PAUSE_MS)) return this.refusal();
    this.probing ||= probe;
    try {
      const outcome = await check();
      this.record(outcome);
      return outcome.verdict;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private record({ verdict, unanswered, failure }: CheckOutcome): void {
    if (!unanswered) {
      if (this.openedAt !== undefined) this.recent = []; // closed: what came before is history
      this.openedAt = undefined;
      this.remember(false);
      return;
    }
    if (verdict.kind === 'unreachable') this.lastReason = verdict.reason;
    if (failure !== undefined) {
      if (this.counted.has(failure)) return;
      this.counted.add(failure);
    }
    this.remember(true);
    const failures = this.recent.filter(Boolean).length;
    const inARow = this.recent.length >= FAILURES_IN_A_ROW && this.recent.slice(-FAILURES_IN_A_ROW).every(Boolean);
    if (this.openedAt === undefined && (inARow || failures >= FAILURES_IN_WINDOW)) {
      this.openedAt = this.now();
      this.openedFor = inARow
        ? `, ${FAILURES_IN_A_ROW} times in a row`
        : ` (${failures} of its last ${this.recent.length} checks got no answer)`;
    } else if (this.openedAt !== undefined) {
      this.openedAt = this.now(); // a failed probe, or a check that ran on: the pause starts again
    }
  }

  private remember(failed: boolean): void {
    this.recent.push(failed);
    if (this.recent.length > WINDOW) this.recent.shift();
  }

  private refusal(): Verdict {
    return {
      kind: 'unreachable',
      reason: `${this.lastReason}${this.openedFor}; classops does not ask it again for ${PAUSE_MS / 1000} s`,
    };
  }
}
