/**
 * What `classops validate` and `--help` load: the packages only other commands need
 * (the Kubernetes client, express, octokit, prom-client, undici) and the ajv compiler
 * must stay out of them, or every student's pull request check pays for them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classops } from '../support/cli.js';

const HEAVY = ['@kubernetes/client-node', 'express', 'octokit', 'prom-client', 'undici'];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'classops-startup-'));
  // Records every module the process resolves, through Node's own module hooks.
  writeFileSync(
    join(dir, 'record.mjs'),
    `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); appendFileSync(${JSON.stringify(join(dir, 'loaded.log'))}, r.url + '\\n'); return r; } });
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The packages (under node_modules) a classops command loads, with its result. */
function packagesLoadedBy(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; stdout: string; packages: Set<string> } {
  rmSync(join(dir, 'loaded.log'), { force: true });
  const run = classops(args, { env: { NODE_OPTIONS: `--import=${join(dir, 'record.mjs')}`, ...env } });
  const urls = readFileSync(join(dir, 'loaded.log'), 'utf8').split('\n');
  const packages = new Set(
    urls.flatMap((url) => {
      const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url);
      return match === null ? [] : [`${match[1]}/${match[2]}`];
    }),
  );
  return { code: run.code, stdout: run.stdout, packages };
}

const loadedPackageNames = (packages: Set<string>) =>
  [...packages].filter((p) => HEAVY.some((heavy) => p.startsWith(`${heavy}/`)));

describe('start-up of the commands every student waits for', () => {
  test('validate loads yaml and the precompiled validators, no heavy package and no ajv compiler', () => {
    const run = packagesLoadedBy(['validate', 'students/week-01.yaml']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('4 of 4 entries will deploy');
    expect([...run.packages].some((p) => p.startsWith('yaml/'))).toBe(true);
    expect(loadedPackageNames(run.packages)).toEqual([]);
    // The validators were compiled by the build: ajv's runtime helpers load, its compiler does not.
    expect([...run.packages].filter((p) => p.startsWith('ajv/') && !p.startsWith('ajv/dist/runtime/'))).toEqual([]);
  });

  test("--help and a command's --help load no package at all", () => {
    const help = packagesLoadedBy(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('validate     check roster files');
    expect([...help.packages]).toEqual([]);
    const validateHelp = packagesLoadedBy(['validate', '--help']);
    expect(validateHelp.stdout).toContain('Usage: classops validate [paths...] [options]');
    expect([...validateHelp.packages]).toEqual([]);
    const renderHelp = packagesLoadedBy(['render', '--help']);
    expect(renderHelp.stdout).toContain('Usage: classops render');
    expect([...renderHelp.packages]).toEqual([]);
  });

  test('run loads the Kubernetes client only when a cluster is named, and express only when it serves', () => {
    expect([...packagesLoadedBy(['run', '--help']).packages]).toEqual([]);
    const out = join(dir, 'manifests');
    const embedded = packagesLoadedBy(['run', '--once', '--no-image-checks'], { CLASSOPS_CLUSTER_MANIFESTS_DIR: out });
    expect(embedded.code).toBe(0);
    expect(loadedPackageNames(embedded.packages)).not.toContain('@kubernetes/client-node/dist/index.js');
    // It counts what it does (prom-client) but serves nothing: a pass with --once opens no port.
    expect(loadedPackageNames(embedded.packages).some((p) => p.startsWith('prom-client/'))).toBe(true);
    expect(loadedPackageNames(embedded.packages).some((p) => p.startsWith('express/'))).toBe(false);
    const named = packagesLoadedBy(['run', '--once', '--kubeconfig', join(dir, 'missing-kubeconfig')]);
    expect(named.code).toBe(2);
    expect(loadedPackageNames(named.packages).some((p) => p.startsWith('@kubernetes/client-node/'))).toBe(true);
  });
});
