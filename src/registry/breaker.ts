/**
 * A circuit breaker per registry. A registry that stops answering would make every check
 * of a pass wait registry.timeout (1 000 students behind a dead host: ten minutes), and
 * so would one that leaves only some requests unanswered. When 3 bursts of failures in a
 * row got no answer, or a tenth of the recent attempts did (at least 5, in more than one
 * burst), the other checks are told at once, as unreachable, which is never cached and
 * keeps every running student's last-known-good image; after a pause, one check asks
 * again, and an answer closes it.
 */
import type { Verdict } from './verdict.js';

/** Bursts of failures in a row that open the breaker: a registry that is down. */
const FAILURES_IN_A_ROW = 3;
/**
 * How many of the recent attempts unanswered open the breaker: a registry that is sick.
 * Recent is a time (see Breaker), not a count: between two waves of time-outs, checks at
 * once may answer many times, and a count would forget the first wave.
 */
const MIN_FAILURES = 5;
const FAILED_SHARE = 0.1;
/** Attempts remembered at most, whatever their time. */
const MAX_REMEMBERED = 1000;
/** How long a registry (or its blob store) that stopped answering is not asked. */
export const PAUSE_MS = 30_000;

/** A check's verdict, and whether the registry gave no answer at all (time-out, refused, DNS, TLS). */
export interface CheckOutcome {
  readonly verdict: Verdict;
  readonly unanswered: boolean;
  /** The error of the request that got no answer: checks that shared a ping fail with the same one. */
  readonly failure?: object;
}

interface Attempt {
  readonly at: number;
  readonly failed: boolean;
  /** A failure that no check running alongside it had already reported: a burst of its own. */
  readonly burst: boolean;
}

export class Breaker {
  /** The recent attempts, oldest first. */
  private recent: Attempt[] = [];
  /** Failures in a row, each from a check that started after the one before had failed. */
  private inARow = 0;
  /** Bursts of failures ever recorded: checks that ran alongside one (a blip resetting every connection) are in it. */
  private bursts = 0;
  private readonly counted = new WeakSet<object>();
  private lastReason = '';
  private openedFor = '';
  private openedAt: number | undefined;
  private probing = false;

  /**
   * `now` must not jump: a monotonic clock (performance.now), or a test's. Attempts are
   * recent for `windowMs`: several times registry.timeout, so that waves of time-outs meet.
   */
  constructor(
    private readonly now: () => number,
    private readonly windowMs: number,
  ) {}

  /** Runs `check` unless the breaker is open; then the verdict is given without asking. */
  async run(check: () => Promise<CheckOutcome>): Promise<Verdict> {
    const probe = this.openedAt !== undefined;
    if (probe && (this.probing || this.now() - this.openedAt! < PAUSE_MS)) return this.refusal();
    this.probing ||= probe;
    const burstsAtStart = this.bursts;
    try {
      const outcome = await check();
      this.record(outcome, burstsAtStart);
      return outcome.verdict;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private record({ verdict, unanswered, failure }: CheckOutcome, burstsAtStart: number): void {
    if (!unanswered) {
      if (this.openedAt !== undefined) this.recent = []; // closed: what came before is history
      this.openedAt = undefined;
      this.inARow = 0;
      this.remember({ at: this.now(), failed: false, burst: false });
      return;
    }
    if (verdict.kind === 'unreachable') this.lastReason = verdict.reason;
    if (failure !== undefined) {
      if (this.counted.has(failure)) return; // the same request failed it
      this.counted.add(failure);
    }
    // A check that started before the last burst was reported ran alongside it: the same burst.
    const burst = burstsAtStart === this.bursts;
    if (burst) {
      this.bursts += 1;
      this.inARow += 1;
    }
    this.remember({ at: this.now(), failed: true, burst });
    if (this.openedAt !== undefined) {
      this.openedAt = this.now(); // a failed probe, or a check that ran on: the pause starts again
      return;
    }
    const failures = this.recent.filter((a) => a.failed).length;
    const bursts = this.recent.filter((a) => a.burst).length;
    if (this.inARow >= FAILURES_IN_A_ROW) this.open(`, ${FAILURES_IN_A_ROW} times in a row`);
    else if (failures >= MIN_FAILURES && failures >= FAILED_SHARE * this.recent.length && bursts > 1)
      this.open(` (${failures} of its last ${this.recent.length} checks got no answer)`);
  }

  private open(why: string): void {
    this.openedAt = this.now();
    this.openedFor = why;
  }

  private remember(attempt: Attempt): void {
    this.recent.push(attempt);
    const since = attempt.at - this.windowMs;
    while (this.recent.length > MAX_REMEMBERED || this.recent[0]!.at < since) this.recent.shift();
  }

  private refusal(): Verdict {
    return {
      kind: 'unreachable',
      reason: `${this.lastReason}${this.openedFor}; classops does not ask it again for ${PAUSE_MS / 1000} s`,
    };
  }
}
