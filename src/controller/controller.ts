/**
 * The loop around reconcile: one pass at a time; changes that arrive during a pass cause
 * exactly one more; failures retry with exponential backoff and jitter; a periodic
 * resync catches anything no event announced.
 */
import { backoffMs } from '../cluster/kube.js';
import { reconcile, type ReconcileOutcome, type ReconcilerOptions } from './reconciler.js';

export interface ControllerOptions extends ReconcilerOptions {
  readonly resyncMs: number;
  /** Delay that gathers a burst of change signals into one pass. */
  readonly debounceMs?: number;
  /** First retry delay after a failed pass; doubles with each failure. */
  readonly retryBaseMs?: number;
  readonly onOutcome?: (outcome: ReconcileOutcome | Error) => void;
}

export class Controller {
  private running: Promise<void> | undefined;
  private pending = false;
  private stopped = true;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** When the scheduled pass starts (performance.now). */
  private dueAt: number | undefined;
  private resync: NodeJS.Timeout | undefined;
  private stopWatching: (() => void) | undefined;
  private cancel: AbortController | undefined;

  constructor(private readonly options: ControllerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.stopWatching = this.options.source.watch(() => this.trigger());
    this.trigger(0);
  }

  /** Asks for a reconcile soon; calls during a pass coalesce into one more pass. */
  trigger(delayMs = this.options.debounceMs ?? 200): void {
    if (this.stopped) return;
    this.pending = true;
    if (this.running !== undefined) return;
    this.schedule(delayMs);
  }

  /**
   * Starts a pass in `delayMs`, unless one is due sooner: signals keep coming from a poll
   * faster than the debounce or a busy watch, and a burst waits one debounce, not for its end.
   */
  private schedule(delayMs: number): void {
    const due = performance.now() + delayMs;
    if (this.dueAt !== undefined && this.dueAt <= due) return;
    clearTimeout(this.timer);
    this.dueAt = due;
    this.timer = setTimeout(() => {
      this.dueAt = undefined;
      this.running = this.loop().finally(() => (this.running = undefined));
    }, delayMs);
  }

  private async loop(): Promise<void> {
    while (this.pending && !this.stopped) {
      this.pending = false;
      const { metrics } = this.options;
      this.cancel = new AbortController();
      try {
        const outcome = await reconcile(this.options, this.cancel.signal);
        this.failures = 0;
        metrics.reconciles.inc({ result: outcome.result });
        metrics.reconcileDuration.observe(this.options.state.reconcile.durationSeconds ?? 0);
        if (outcome.result !== 'partial') metrics.lastSuccess.set(Date.now() / 1000);
        this.options.onOutcome?.(outcome);
        if (outcome.result === 'partial') this.retryLater();
      } catch (error) {
        if (this.stopped) break; // cancelled by stop(): not a failure to retry
        this.failures += 1;
        metrics.reconciles.inc({ result: 'failure' });
        this.options.log.error('reconcile failed; nothing was changed', {
          error: (error as Error).message,
          retry: this.failures,
        });
        this.options.onOutcome?.(error as Error);
        this.retryLater();
      }
    }
    if (!this.stopped) {
      clearTimeout(this.resync);
      this.resync = setTimeout(() => this.trigger(0), this.options.resyncMs);
      this.resync.unref();
    }
  }

  private retryLater(): void {
    const wait = backoffMs(Math.min(this.failures, 10), { baseMs: this.options.retryBaseMs ?? 1000, maxMs: 300_000 });
    setTimeout(() => this.trigger(0), wait).unref();
  }

  /** Resolves when no pass is running or scheduled to start at once (for --once and tests). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /**
   * Stops: the current pass is cancelled (it starts no write from now on) and awaited, so
   * that when this resolves nothing more is written; waiting is abandoned after `graceMs`.
   * Resolves true when the pass settled in time (no write can still land).
   */
  async stop(graceMs = 10_000): Promise<boolean> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.dueAt = undefined;
    clearTimeout(this.resync);
    this.stopWatching?.();
    this.cancel?.abort(new Error('classops is stopping'));
    if (this.running === undefined) return true;
    const settled = this.running.then(() => true);
    return Promise.race([settled, new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
  }
}
