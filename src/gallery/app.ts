/** The HTTP app of `classops gallery`: the gallery's routes plus /healthz, /readyz and /metrics. */
import express from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { Gallery } from './gallery.js';

export function createGalleryApp(gallery: Gallery, metrics: Metrics): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const ready = gallery.source.loaded();
    res
      .status(ready ? 200 : 503)
      .type('text/plain')
      .send(ready ? 'ready\n' : `not ready: no targets loaded yet from ${gallery.source.description}\n`);
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/', (_req, res) => {
    res.redirect(302, '/gallery');
  });
  app.use(gallery.router);
  return app;
}
