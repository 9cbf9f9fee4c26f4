/**
 * Self-heal: watches the objects classops manages and signals when anything changes them,
 * so the next reconcile puts back what someone else edited or deleted. A dropped watch
 * is restarted with backoff; the reconcile that follows is level-triggered, so no event
 * is needed for correctness, only for speed.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { collectionPath, MANAGED_KINDS } from '../render/kinds.js';
import { LABEL, MANAGED_BY } from '../render/names.js';
import { backoffMs } from './kube.js';

/** Every kind classops applies; a kind whose CRD is missing fails its watch, which retries with backoff. */
const WATCHED = MANAGED_KINDS.map(collectionPath);

export class ManagedObjectWatcher {
  private readonly watch: Watch;
  private readonly controllers: AbortController[] = [];
  private stopped = false;

  constructor(
    kubeConfig: KubeConfig,
    private readonly onChange: () => void,
  ) {
    this.watch = new Watch(kubeConfig);
  }

  start(): void {
    for (const path of WATCHED) void this.follow(path, 0);
  }

  private async follow(path: string, failures: number): Promise<void> {
    if (this.stopped) return;
    let restarted = false;
    const restart = (failed: boolean) => {
      if (restarted || this.stopped) return;
      restarted = true;
      setTimeout(
        () => void this.follow(path, failed ? failures + 1 : 0),
        backoffMs(Math.min(failures, 8), { baseMs: 500, maxMs: 30_000 }),
      ).unref();
    };
    try {
      const controller = await this.watch.watch(
        path,
        { labelSelector: `${LABEL.managedBy}=${MANAGED_BY}`, allowWatchBookmarks: false },
        (phase) => {
          if (phase === 'MODIFIED' || phase === 'DELETED') this.onChange();
        },
        (error: unknown) => restart(error !== null && error !== undefined),
      );
      // stop() may have run while this watch was being opened: it would otherwise stay open forever.
      if (this.stopped) controller.abort();
      else this.controllers.push(controller);
    } catch {
      restart(true);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.controllers) c.abort();
  }
}
