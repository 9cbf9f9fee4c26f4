/**
 * Image checks as the rest of classops uses them: verdicts cached (pullable for the
 * positive TTL, the student's faults for the negative TTL, rate limits until Retry-After,
 * unreachable never), one request in flight per reference, and at most N checks at once
 * per registry, none while its breaker is open.
 */
import { Limiter } from '../concurrency.js';
import { durationMs, type RegistryConfig } from '../config.js';
import { TokenCache } from './auth.js';
import { Breaker, type CheckOutcome } from './breaker.js';
import { checkImageOnce, type CheckOptions } from './client.js';
import { CHECK_TIMEOUTS, RegistryPool } from './http.js';
import { formatImageReference, parseImageReference, type ImageReference } from '../roster/image-reference.js';
import { isStudentFault, type Verdict } from './verdict.js';

export interface CheckerOptions {
  readonly now?: () => number;
  /** Called once per check that reached the registry (not for cache hits), for metrics. */
  readonly onChecked?: (verdict: Verdict, seconds: number) => void;
}

/** The breaker's memory of attempts, in request time-outs: long enough for several waves of them to meet. */
const BREAKER_WINDOW_TIMEOUTS = 10;

export class ImageChecker {
  private readonly cache = new Map<string, { verdict: Verdict; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<Verdict>>();
  /** Per registry: at most N checks at once, and a breaker for when it stops answering. */
  private readonly registries = new Map<string, { limiter: Limiter; breaker: Breaker }>();
  private readonly options: CheckOptions;
  private readonly now: () => number;
  /** For pauses: a clock that does not jump. */
  private readonly monotonic: () => number;
  private readonly positiveMs: number;
  private readonly negativeMs: number;
  private readonly closing = new AbortController();

  constructor(
    private readonly config: RegistryConfig,
    private readonly hooks: CheckerOptions = {},
  ) {
    this.now = hooks.now ?? Date.now;
    this.monotonic = hooks.now ?? (() => performance.now());
    this.positiveMs = durationMs(config.cacheTtl.positive);
    this.negativeMs = durationMs(config.cacheTtl.negative);
    this.options = {
      requiredPlatform: config.requiredPlatform,
      maxManifestBytes: config.maxManifestBytes,
      plainHttp: config.plainHttp,
      bases: new Map(),
      http: {
        timeoutMs: durationMs(config.timeout),
        pool: new RegistryPool(config.concurrencyPerRegistry, durationMs(config.timeout)),
      },
      tokens: new TokenCache(this.now),
      blobStores: new Map(),
      now: this.monotonic,
    };
  }

  /**
   * Runs one check, which as a whole may take CHECK_TIMEOUTS times registry.timeout: its
   * last request starts with a whole timeout left. One controller per check, dropped after
   * it: signals combined with the checker's own, which lives as long as the process, would
   * each be kept as long.
   */
  private async checkOnce(reference: ImageReference): Promise<CheckOutcome> {
    const check = new AbortController();
    const stop = () => check.abort();
    this.closing.signal.addEventListener('abort', stop);
    if (this.closing.signal.aborted) stop();
    const { timeoutMs } = this.options.http;
    const startBy = performance.now() + (CHECK_TIMEOUTS - 1) * timeoutMs;
    try {
      return await checkImageOnce(reference, {
        ...this.options,
        http: { ...this.options.http, signal: check.signal, startBy },
      });
    } finally {
      this.closing.signal.removeEventListener('abort', stop);
    }
  }

  /** Cancels every check under way (they end as unreachable, which is never cached): for shutdown. */
  close(): void {
    this.closing.abort();
    void this.options.http.pool?.close().catch(() => undefined);
  }

  /** The verdict for an image reference as written in a roster. The reference must be valid. */
  async check(image: string): Promise<Verdict> {
    const parsed = parseImageReference(image);
    if (!parsed.ok) throw new TypeError(`checkImage needs a valid reference: ${parsed.problem}`);
    const key = formatImageReference(parsed.reference);
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expiresAt > this.now()) return cached.verdict;
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;

    const { limiter, breaker } = this.registryOf(parsed.reference.registry);
    const task = limiter
      .run(() =>
        // Asked once its turn comes, so checks queued behind a dead registry's time-outs are told at once.
        breaker.run(async () => {
          const started = performance.now();
          const outcome = await this.checkOnce(parsed.reference);
          this.hooks.onChecked?.(outcome.verdict, (performance.now() - started) / 1000);
          return outcome;
        }),
      )
      .then((verdict) => {
        this.remember(key, verdict);
        return verdict;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, task);
    return task;
  }

  private registryOf(registry: string): { limiter: Limiter; breaker: Breaker } {
    let known = this.registries.get(registry);
    if (known === undefined) {
      known = {
        limiter: new Limiter(this.config.concurrencyPerRegistry),
        breaker: new Breaker(this.monotonic, BREAKER_WINDOW_TIMEOUTS * this.options.http.timeoutMs),
      };
      this.registries.set(registry, known);
    }
    return known;
  }

  /** Checks many references, each once. */
  async checkAll(images: Iterable<string>): Promise<Map<string, Verdict>> {
    const unique = [...new Set(images)];
    const verdicts = await Promise.all(unique.map((image) => this.check(image)));
    return new Map(unique.map((image, i) => [image, verdicts[i]!]));
  }

  private remember(key: string, verdict: Verdict): void {
    const ttl =
      verdict.kind === 'pullable'
        ? verdict.platformUnread === true
          ? 0
          : this.positiveMs
        : isStudentFault(verdict)
          ? this.negativeMs
          : verdict.kind === 'rate-limited'
            ? (verdict.retryAfterSeconds ?? 0) * 1000
            : 0;
    // A TTL of 0 (unreachable, a rate limit without Retry-After) expires as it is stored: never served.
    this.cache.set(key, { verdict, expiresAt: this.now() + ttl });
  }
}
