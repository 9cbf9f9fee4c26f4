/** The controller's one HTTP port: /healthz, /readyz, /metrics and /api/status (JSON of State). */
import type { Server } from 'node:http';
import express, { type RequestHandler } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { State } from './state.js';

export interface ServerOptions {
  readonly state: State;
  readonly metrics: Metrics;
  /** Ready to serve: a leader after its first reconcile, or a follower that is up. */
  readonly ready: () => boolean;
  /** POST /webhooks/github, only when a webhook secret is configured (otherwise 404). */
  readonly webhook?: RequestHandler;
  /** The gallery's routes (/gallery, /api/students), when this process serves them. */
  readonly gallery?: express.RequestHandler;
}

export function createApp(options: ServerOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const ready = options.ready();
    res
      .status(ready ? 200 : 503)
      .type('text/plain')
      .send(ready ? 'ready\n' : 'not ready: no reconcile has finished yet\n');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.metrics.registry.contentType).send(await options.metrics.registry.metrics());
  });
  app.get('/api/status', (_req, res) => {
    res.json(options.state.toJSON());
  });
  if (options.webhook) app.post('/webhooks/github', options.webhook);
  if (options.gallery) app.use(options.gallery);
  return app;
}

export async function listen(app: express.Express, port: number, host: string): Promise<Server> {
  // Express 5 hands a failed listen (a busy port) to this callback: it must not count as serving.
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
