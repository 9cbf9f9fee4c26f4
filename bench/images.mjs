// Checks distinct image references on a local docker-registry behind a proxy that adds
// registry latency (30 ms each way, like a GHCR round trip): concurrency 8 against 1, and
// again with a warm cache. On bare loopback there is no latency for concurrency to overlap.
// Needs Debian's docker-registry and skopeo (npm run deps:debian).
// Run by hand: npm run bench:images   (REFERENCES=80, DELAY_MS=30)
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../dist/config.js';
import { ImageChecker } from '../dist/registry/checker.js';

const REFERENCES = Number(process.env.REFERENCES ?? 80);
const DELAY_MS = Number(process.env.DELAY_MS ?? 30);
const GOAL = 6;
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// A one-layer OCI layout for linux/amd64.
const layout = mkdtempSync(join(tmpdir(), 'bench-oci-'));
mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
const blob = (b) => {
  const d = sha(b);
  writeFileSync(join(layout, 'blobs/sha256', d.slice(7)), b);
  return d;
};
const layer = gzipSync(Buffer.alloc(1024));
const config = Buffer.from(
  JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [sha(Buffer.alloc(1024))] },
  }),
);
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: blob(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: blob(layer), size: layer.length }],
  }),
);
const manifestDigest = blob(manifest);
writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
writeFileSync(
  join(layout, 'index.json'),
  JSON.stringify({
    schemaVersion: 2,
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifestDigest,
        size: manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': 'v0' },
      },
    ],
  }),
);

const port = await new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const dir = mkdtempSync(join(tmpdir(), 'bench-registry-'));
writeFileSync(
  join(dir, 'config.yml'),
  `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
);
const registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
const host = `127.0.0.1:${port}`;
let proxy;
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://${host}/v2/`)).ok) break;
    } catch {
      if (i > 200) throw new Error('docker-registry did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  execFileSync('skopeo', [
    '--insecure-policy',
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    `oci:${layout}:v0`,
    `docker://${host}/bench/app:v0`,
  ]);
  // 500 tags of the same manifest, through the registry's own API.
  for (let i = 1; i < REFERENCES; i++) {
    const res = await fetch(`http://${host}/v2/bench/app/manifests/v${i}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    if (res.status !== 201) throw new Error(`tagging failed: HTTP ${res.status}`);
  }
  // The proxy runs as its own process: forwarding must not take this process's CPU.
  proxy = spawn(process.execPath, [new URL('./delaying-proxy.mjs', import.meta.url).pathname, host, String(DELAY_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const proxyHost = await new Promise((resolve, reject) => {
    proxy.stdout.once('data', (d) => resolve(d.toString().trim()));
    proxy.once('exit', () => reject(new Error('the delaying proxy did not start')));
  });
  const images = Array.from({ length: REFERENCES }, (_, i) => `${proxyHost}/bench/app:v${i}`);
  const run = async (
    concurrency,
    checker = new ImageChecker(
      loadConfig({ env: {}, overrides: { registry: { concurrencyPerRegistry: concurrency } } }).registry,
    ),
  ) => {
    const start = performance.now();
    const cpu = process.cpuUsage();
    const verdicts = await checker.checkAll(images);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const pullable = [...verdicts.values()].filter((v) => v.kind === 'pullable').length;
    if (pullable !== REFERENCES) throw new Error(`only ${pullable} of ${REFERENCES} pullable`);
    return { ms, checker, cpuMs };
  };
  await run(8); // warm-up: JIT and the registry's own caches
  const serial = await run(1);
  const parallel = await run(8);
  const warm = await run(8, parallel.checker);
  const ratio = serial.ms / parallel.ms;
  console.log(
    `references: ${REFERENCES} distinct tags on a local docker-registry behind a proxy adding ${DELAY_MS} ms each way (3 requests each: /v2/, manifest, config blob)`,
  );
  console.log(
    `concurrency 1: ${serial.ms.toFixed(0)} ms (${(serial.ms / REFERENCES).toFixed(2)} ms per reference, ${serial.cpuMs.toFixed(0)} ms CPU here)`,
  );
  console.log(
    `concurrency 8: ${parallel.ms.toFixed(0)} ms (${(parallel.ms / REFERENCES).toFixed(2)} ms per reference, ${parallel.cpuMs.toFixed(0)} ms CPU here)`,
  );
  console.log(`warm cache:    ${warm.ms.toFixed(1)} ms`);
  console.log(
    `ratios: concurrency 1 / 8 = ${ratio.toFixed(2)}x (goal >= ${GOAL}x: ${ratio >= GOAL ? 'met' : 'NOT met'}); cold (8) / warm = ${(parallel.ms / warm.ms).toFixed(0)}x`,
  );
  console.log(`peak memory (process RSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  proxy?.kill();
  registry.kill();
  rmSync(dir, { recursive: true, force: true });
  rmSync(layout, { recursive: true, force: true });
}
