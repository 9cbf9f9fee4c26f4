/**
 * Leader election with a coordination.k8s.io/v1 Lease: only the holder reconciles. The
 * lease is taken when free or expired, renewed while held, and released on shutdown so
 * another replica takes over at once. Updates carry the resourceVersion, so two replicas
 * never both win.
 *
 * A push that reaches a follower (the webhook's Service routes to every replica) is passed
 * on through a second Lease, `<name>-push`: the follower stamps it, and the leader, which
 * reads it every round, reconciles when the stamp changes. Its own Lease is never written
 * by anyone else, so a push can never cost the leader a renewal.
 */
import type { JsonObjectApi } from './json-api.js';
import { durationMs } from '../config.js';
import { statusOf } from './kube.js';

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

/** MicroTime, as the API server writes it. */
const microTime = (date: Date) => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export interface LeaderOptions {
  readonly name: string;
  readonly namespace: string;
  readonly identity: string;
  readonly leaseDuration: string;
  readonly renewInterval: string;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  /** A follower asked for a reconcile (a push reached it); called on the leader. */
  readonly onPassRequested?: () => void;
  /**
   * The Lease could not be read or written, with why; undefined once it can again. Called
   * when that changes, not every round.
   */
  readonly onLeaseProblem?: (problem: string | undefined) => void;
}

/** The Lease followers stamp to ask the leader for a reconcile. */
export const passRequestLease = (leaseName: string) => `${leaseName}-push`;

export type LeaseDecision = 'create' | 'renew' | 'take' | 'wait';

/**
 * What a replica may do with the Lease as it reads it: create it when there is none,
 * renew it when it holds it, take it when it is free or its holder stopped renewing for
 * a whole lease duration, and otherwise wait.
 */
export function decideLease(
  lease: Pick<Lease, 'spec'> | undefined,
  identity: string,
  now: number,
  ownSeconds: number,
): LeaseDecision {
  if (lease === undefined) return 'create';
  const holder = lease.spec.holderIdentity ?? '';
  if (holder === identity) return 'renew';
  const renewed = Date.parse(lease.spec.renewTime ?? '') || 0;
  const expired = renewed + (lease.spec.leaseDurationSeconds ?? ownSeconds) * 1000 < now;
  return holder === '' || expired ? 'take' : 'wait';
}

export class LeaderElector {
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The round under way, if any: release waits for it, so no renewal lands after the release. */
  private round: Promise<void> | undefined;
  /** The pass-request stamp last seen while leading; undefined until the first read. */
  private lastRequest: string | undefined;
  /** The last round read a Lease another replica holds and renews in time. */
  private following = false;
  /** Why the last round could not read or write the Lease. */
  private problem: string | undefined;

  constructor(
    private readonly api: JsonObjectApi,
    private readonly options: LeaderOptions,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Whether another replica leads, as the last round read the Lease: a follower that knows its leader. */
  get followsLeader(): boolean {
    return !this.leading && this.following;
  }

  start(): void {
    this.round = this.tick();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    let holding = false;
    let problem: string | undefined;
    try {
      holding = await this.tryAcquireOrRenew();
    } catch (error) {
      // The API server is away, or refuses the Lease (its namespace, RBAC): lead no more. A
      // 409 is another replica writing first, as replicas racing at start do: a round not won.
      holding = false;
      this.following = false;
      if (statusOf(error) !== 409) problem = (error as Error).message;
    }
    if (problem !== this.problem) {
      this.problem = problem;
      this.options.onLeaseProblem?.(problem);
    }
    if (this.stopped) return; // stopped meanwhile: a round that was under way starts or stops nothing
    if (holding && !this.leading) {
      this.leading = true;
      this.lastRequest = undefined; // leading starts with a full pass: earlier requests are served by it
      this.options.onStartedLeading();
    } else if (!holding && this.leading) {
      this.leading = false;
      this.options.onStoppedLeading();
    }
    if (this.leading) await this.servePassRequests();
    this.timer = setTimeout(() => {
      this.round = this.tick();
    }, durationMs(this.options.renewInterval));
  }

  /** On the leader: a changed stamp on the pass-request Lease asks for a reconcile. */
  private async servePassRequests(): Promise<void> {
    let stamp: string;
    try {
      stamp = (await this.read(passRequestLease(this.options.name)))?.spec.renewTime ?? '';
    } catch {
      return; // the API server is away: the next round looks again
    }
    if (this.lastRequest !== undefined && stamp !== this.lastRequest) this.options.onPassRequested?.();
    this.lastRequest = stamp;
  }

  /**
   * On a follower: asks the leader for a reconcile by stamping the pass-request Lease. A
   * conflict means another replica stamped it at the same moment, which asks just the same.
   */
  async requestPass(): Promise<void> {
    const name = passRequestLease(this.options.name);
    const spec = { holderIdentity: this.options.identity, renewTime: microTime(new Date()) };
    const lease = await this.read(name);
    try {
      if (lease === undefined)
        await this.api.createJson({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace: this.options.namespace },
          spec,
        } as never);
      else await this.api.replaceJson({ ...lease, spec: { ...lease.spec, ...spec } } as never);
    } catch (error) {
      if (statusOf(error) !== 409) throw error;
    }
  }

  private async read(name = this.options.name): Promise<Lease | undefined> {
    try {
      return await this.api.get<Lease>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: this.options.namespace },
      });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const seconds = Math.round(durationMs(this.options.leaseDuration) / 1000);
    const lease = await this.read();
    const decision = decideLease(lease, this.options.identity, now.getTime(), seconds);
    this.following = decision === 'wait';
    if (decision === 'wait') return false;
    if (lease === undefined) {
      await this.api.createJson({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.options.name, namespace: this.options.namespace },
        spec: {
          holderIdentity: this.options.identity,
          leaseDurationSeconds: seconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      } as never);
      return true;
    }
    const taking = decision === 'take';
    const next: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: this.options.identity,
        leaseDurationSeconds: seconds,
        renewTime: microTime(now),
        ...(taking ? { acquireTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    // A 409 (someone else wrote first) fails the update like any other error: the round is not won.
    await this.api.replaceJson(next);
    return true;
  }

  /**
   * Another replica that holds the Lease and renews it in time, as it reads now, or
   * undefined (no Lease, a free or lapsed one, or this replica's own): for a one-off pass,
   * which takes no Lease but must not fight a running leader.
   */
  async currentLeader(): Promise<string | undefined> {
    const lease = await this.read();
    const seconds = Math.round(durationMs(this.options.leaseDuration) / 1000);
    return decideLease(lease, this.options.identity, Date.now(), seconds) === 'wait'
      ? (lease?.spec.holderIdentity ?? undefined)
      : undefined;
  }

  /** Stops renewing and keeps the lease as it is: it runs out on its own (a pass may still be writing). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Stops renewing and gives the lease up, so another replica leads without waiting for expiry. */
  async release(): Promise<void> {
    this.stop();
    await this.round; // a round under way may just have renewed or taken the lease: it is released too
    this.leading = false;
    try {
      const lease = await this.read();
      if (lease?.spec.holderIdentity === this.options.identity) {
        await this.api.replaceJson({
          ...lease,
          spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
        } as never);
      }
    } catch {
      // the lease expires on its own
    }
  }
}
