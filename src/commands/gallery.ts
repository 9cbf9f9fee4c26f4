/**
 * `classops gallery`: the gallery in its own process (its own Deployment in a cluster, so
 * visitors never share a process with the reconciler). Targets come from --targets FILE,
 * or from the managed Services of the cluster it runs in (or is pointed at).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createLogger } from '../observability/log.js';
import { EXIT, UsageError, type CommandIO } from './io.js';

export async function galleryCommand(args: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { targets: { type: 'string' }, port: { type: 'string' }, config: { type: 'string' } },
  });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw new UsageError(`--port must be a port number, got "${values.port}"`);
  const config = loadConfig({
    file: values.config,
    env: io.env,
    overrides: port === undefined ? {} : { gallery: { port } },
  });
  const log = createLogger(
    io.stderr,
    io.env['CLASSOPS_LOG_FORMAT'] === 'json' ? 'json' : io.env['CLASSOPS_LOG_FORMAT'] === 'text' ? 'text' : undefined,
  );
  // Heavy modules load only here, so `classops --help` and `validate` stay fast.
  const [{ Metrics }, { startGallery }, { serveGallery }] = await Promise.all([
    import('../observability/metrics.js'),
    import('../gallery/gallery.js'),
    import('../gallery/app.js'),
  ]);
  const metrics = new Metrics();
  // Target sources report changes from the start; the collector exists only once a source does.
  let targetsChanged = () => undefined as void;
  let source;
  if (values.targets !== undefined) {
    const { FileTargets, TargetsFileError } = await import('../gallery/targets-file.js');
    try {
      source = new FileTargets(values.targets, log, () => targetsChanged());
    } catch (error) {
      if (error instanceof TargetsFileError) throw new UsageError(error.message);
      throw error;
    }
  } else {
    const { kubeConfigFor } = await import('../cluster/connect.js');
    const kubeConfig = kubeConfigFor(config.cluster, io.env);
    if (kubeConfig === undefined)
      throw new UsageError(
        'no targets: pass --targets FILE, or run in a cluster (or name one with cluster.kubeconfig in the config)',
      );
    const [{ watchClusterTargets }, { courseNamespacesOf }] = await Promise.all([
      import('../gallery/targets-cluster.js'),
      import('../pipeline/weeks.js'),
    ]);
    const { isCourseNamespace } = courseNamespacesOf(config);
    source = await watchClusterTargets(kubeConfig, log, isCourseNamespace, () => targetsChanged());
  }
  const gallery = startGallery(source, config, metrics);
  targetsChanged = () => gallery.collector.sync();
  const server = await serveGallery(gallery, metrics, config.gallery.port, config.gallery.host);
  const address = server.address();
  log.info('serving /healthz, /readyz, /metrics, /gallery, /api/students', {
    port: typeof address === 'object' && address !== null ? address.port : config.gallery.port,
    targets: source.description,
  });
  await new Promise<void>((resolveStop) => {
    const shutdown = (signal: string) => {
      log.info(`${signal}: stopping the gallery`);
      void gallery.stop().then(() => {
        server.close(() => resolveStop());
        server.closeAllConnections();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return EXIT.ok;
}
