/**
 * Self-heal: watches the objects classops manages and signals when anything changes them,
 * so the next reconcile puts back what someone else edited or deleted. A dropped watch
 * is restarted with backoff; the reconcile that follows is level-triggered, so no event
 * is needed for correctness, only for speed.
 *
 * The watch also keeps what it saw, as an informer does: each kind is listed once, then
 * followed from the list's resourceVersion, so no change falls between the two. While
 * every kind is followed, a pass can read the managed objects from here instead of
 * listing them all again (see `cached`); a kind whose watch dropped is not followed
 * until it has been listed again.
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { collectionPath, MANAGED_KINDS, type ManagedKind } from '../render/kinds.js';
import { LABEL, MANAGED_BY } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import type { JsonObjectApi } from './json-api.js';
import { backoffMs, isNotFound } from './kube.js';
import { keyOf, refOf } from './target.js';

const SELECTOR = `${LABEL.managedBy}=${MANAGED_BY}`;

/** What the watch of one kind knows: its objects by key once listed, nothing before. */
interface KindView {
  objects: Map<string, KubeObject> | undefined;
}

export class ManagedObjectWatcher {
  private readonly watch: Watch;
  private readonly controllers: AbortController[] = [];
  private readonly views = new Map<ManagedKind, KindView>(MANAGED_KINDS.map((k) => [k, { objects: undefined }]));
  private stopped = false;

  constructor(
    kubeConfig: KubeConfig,
    private readonly onChange: () => void,
    private readonly lister?: JsonObjectApi,
  ) {
    this.watch = new Watch(kubeConfig);
  }

  start(): void {
    for (const kind of MANAGED_KINDS) void this.follow(kind, 0);
  }

  /**
   * Every managed object as the watches last saw it, or undefined while any kind is not
   * followed (not listed yet, or its watch dropped). Without a lister nothing is kept.
   */
  cached(): KubeObject[] | undefined {
    const all: KubeObject[] = [];
    for (const view of this.views.values()) {
      if (view.objects === undefined) return undefined;
      for (const object of view.objects.values()) all.push(object);
    }
    return all;
  }

  private async follow(kind: ManagedKind, failures: number): Promise<void> {
    if (this.stopped) return;
    const view = this.views.get(kind)!;
    view.objects = undefined;
    let restarted = false;
    let current: AbortController | undefined;
    // Called once or more per attempt (an ERROR event, then the end of the watch): only the first counts.
    const restart = (failed: boolean) => {
      if (restarted || this.stopped) return;
      restarted = true;
      view.objects = undefined;
      current?.abort(); // an ERROR event may leave the stream open
      setTimeout(
        () => void this.follow(kind, failed ? failures + 1 : 0),
        backoffMs(Math.min(failures, 8), { baseMs: 500, maxMs: 30_000 }),
      ).unref();
    };
    let objects: Map<string, KubeObject> | undefined;
    let resourceVersion: string | undefined;
    if (this.lister !== undefined) {
      try {
        const list = await this.lister.listVersioned(kind.apiVersion, kind.kind, SELECTOR);
        objects = new Map();
        for (const item of list?.items ?? []) {
          const object = { ...item, apiVersion: kind.apiVersion, kind: kind.kind } as KubeObject;
          objects.set(keyOf(refOf(object)), object);
        }
        resourceVersion = list?.resourceVersion;
        if (list === undefined || resourceVersion === undefined) {
          // Not served: nothing of ours, look again later. No resourceVersion: nothing to follow from.
          restart(true);
          if (list === undefined) view.objects = objects;
          return;
        }
      } catch (error) {
        restart(true);
        // A group the API server does not serve (a CRD not installed) has nothing of ours: not a failure.
        if (isNotFound(error)) view.objects = new Map();
        return;
      }
    }
    try {
      const controller = await this.watch.watch(
        collectionPath(kind),
        {
          labelSelector: SELECTOR,
          allowWatchBookmarks: false,
          ...(resourceVersion === undefined ? {} : { resourceVersion }),
        },
        (phase, item: Record<string, unknown>) => {
          if (phase === 'ERROR') {
            // 410 Gone and the like: what this view holds can no longer be brought up to date.
            restart(true);
            return;
          }
          if (objects !== undefined && !restarted) {
            const object = { ...item, apiVersion: kind.apiVersion, kind: kind.kind } as KubeObject;
            if (phase === 'DELETED') objects.delete(keyOf(refOf(object)));
            else objects.set(keyOf(refOf(object)), object);
          }
          if (phase === 'MODIFIED' || phase === 'DELETED') this.onChange();
        },
        (error: unknown) => restart(error !== null && error !== undefined),
      );
      // stop() may have run while this watch was being opened: it would otherwise stay open forever.
      if (this.stopped || restarted) controller.abort();
      else {
        current = controller;
        this.controllers.push(controller);
        view.objects = objects;
      }
    } catch {
      restart(true);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const view of this.views.values()) view.objects = undefined;
    for (const c of this.controllers) c.abort();
  }
}
