/** The HTTP server of `classops gallery`: the gallery's routes plus /healthz, /readyz and /metrics. */
import { createServer, type Server } from 'node:http';
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

/** Listens with the gallery's handler first: its pages never go through express's routing. */
export async function serveGallery(gallery: Gallery, metrics: Metrics, port: number, host: string): Promise<Server> {
  const app = createGalleryApp(gallery, metrics);
  const server = createServer((req, res) => {
    if (!gallery.handler(req, res)) app(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
