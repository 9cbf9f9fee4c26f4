/**
 * A circuit breaker per registry. A registry that stops answering would make every check
 * of a pass wait registry.timeout (1 000 students behind a dead host: ten minutes). After
 * a few attempts in a row get no answer, the others are told at once, as unreachable, which
 * is never cached and keeps every running student's last-known-good image; after a pause,
 * one check asks again, and any answer from the registry closes the breaker.
 */
import type { Verdict } from './verdict.js';

/** Checks in a row without an answer that open the breaker. */
const FAILURES_TO_OPEN = 3;
const PAUSE_MS = 30_000;

/** A check's verdict, and whether the registry gave no answer at all (time-out, refused, DNS, TLS). */
export interface CheckOutcome {
  readonly verdict: Verdict;
  readonly unanswered: boolean;
}

export class Breaker {
  /** Failures in a row, each from a check that started after the one before had failed. */
  private failures = 0;
  /** Counts failures ever recorded: checks running at once share one ping, and one dropped ping is one failure. */
  private failuresSeen = 0;
  private lastReason = '';
  private openedAt: number | undefined;
  private probing = false;

  constructor(private readonly now: () => number) {}

  /** Runs `check` unless the breaker is open; then the verdict is given without asking. */
  async run(check: () => Promise<CheckOutcome>): Promise<Verdict> {
    const probe = this.openedAt !== undefined;
    if (probe && (this.probing || this.now() - this.openedAt! < PAUSE_MS)) return this.refusal();
    this.probing ||= probe;
    const seenAtStart = this.failuresSeen;
    try {
      const { verdict, unanswered } = await check();
      this.record(verdict, unanswered, seenAtStart);
      return verdict;
    } finally {
      if (probe) this.probing = false;
    }
  }

  private record(verdict: Verdict, unanswered: boolean, seenAtStart: number): void {
    if (!unanswered) {
      this.failures = 0;
      this.openedAt = undefined;
      return;
    }
    if (verdict.kind === 'unreachable') this.lastReason = verdict.reason;
    // A check that started before the last failure was told of it ran alongside it: the same failure.
    if (seenAtStart !== this.failuresSeen) return;
    this.failuresSeen += 1;
    this.failures += 1;
    if (this.failures >= FAILURES_TO_OPEN) this.openedAt = this.now();
  }

  private refusal(): Verdict {
    return {
      kind: 'unreachable',
      reason: `${this.lastReason}, ${FAILURES_TO_OPEN} times in a row; classops does not ask it again for ${PAUSE_MS / 1000} s`,
    };
  }
}
