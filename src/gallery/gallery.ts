/**
 * One gallery: a collector over a target source, and the routes that serve what it
 * collected. `classops gallery` and `classops run` each start one.
 */
import type express from 'express';
import { durationMs, type ClassopsConfig } from '../config.js';
import type { Metrics } from '../observability/metrics.js';
import { studentPath } from '../render/objects.js';
import { Collector } from './collector.js';
import { galleryHandler, galleryRouter, type GalleryHandler } from './routes.js';
import type { TargetSource } from './targets.js';
import { stateTargets, type StudentsView } from './targets-state.js';

export interface Gallery {
  /** The routes as a plain Node handler (true when it answered)… */
  readonly handler: GalleryHandler;
  /** …and as express middleware. */
  readonly router: express.RequestHandler;
  readonly collector: Collector;
  readonly source: TargetSource;
  stop(): Promise<void>;
}

export function startGallery(
  source: TargetSource,
  config: Pick<ClassopsConfig, 'gallery' | 'render'>,
  metrics: Metrics | undefined,
): Gallery {
  const refreshMs = durationMs(config.gallery.refreshInterval);
  const collector = new Collector(source, {
    timeoutMs: durationMs(config.gallery.fetchTimeout),
    refreshMs,
    maxBodyBytes: config.gallery.maxBodyBytes,
    concurrency: config.gallery.concurrency,
    metrics,
  });
  collector.start();
  const handler = galleryHandler(() => collector.snapshot(), {
    title: config.gallery.title,
    refreshSeconds: Math.max(5, Math.round(refreshMs / 1000)),
    appLink: (login) =>
      config.gallery.linkBase + studentPath(config.render, { githubUsername: encodeURIComponent(login) }),
  });
  return {
    handler,
    router: galleryRouter(handler),
    collector,
    source,
    stop: async () => {
      source.stop();
      await collector.stop();
    },
  };
}

/** The gallery `classops run` serves on its own port: targets from the controller's State, read-only. */
export function galleryFromState(
  state: StudentsView,
  config: Pick<ClassopsConfig, 'gallery' | 'render'>,
  metrics: Metrics,
): Gallery {
  return startGallery(stateTargets(state), config, metrics);
}
