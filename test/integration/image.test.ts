/**
 * The image's final stage, reproduced without a container engine: the packed project
 * (`npm pack`), production dependencies installed from the lock file in an empty folder,
 * and each command the image runs started from there, from another working directory
 * (the image's WORKDIR /work), writing nothing into the installed package (a read-only
 * root file system).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';

interface Case {
  readonly args: string[];
  /** Exit code and what the user sees on stdout. */
  readonly code: number;
  readonly stdout: RegExp;
  /** Checks on the working directory after the command, when it writes something. */
  readonly after?: (work: string) => void;
}

// Every command the image runs.
const COMMANDS: Record<string, Case> = {
  help: { args: ['--help'], code: 0, stdout: /Commands:[\s\S]*\brun\b[\s\S]*\bvalidate\b[\s\S]*\bcheck-image\b/ },
  'validate on the bundled roster': {
    args: ['validate', '@app/students'],
    code: 0,
    stdout: /0 errors, 0 warnings in 1 file; 4 of 4 entries will deploy/,
  },
  'run --once, the embedded default': {
    args: ['run', '--once', '--config', '@work/classops.yaml'],
    code: 0,
    stdout: /success at revision content-[0-9a-f]+: 22 created/,
    after: (work) => expect(readdirSync(join(work, 'manifests', 'container-course-week01')).length).toBeGreaterThan(10),
  },
  'check-image --help': { args: ['check-image', '--help'], code: 0, stdout: /Usage: classops check-image/ },
  'pr-report --help': { args: ['pr-report', '--help'], code: 0, stdout: /Usage: classops pr-report/ },
  'gallery --help': { args: ['gallery', '--help'], code: 0, stdout: /Usage: classops gallery/ },
};

/**
 * The installed package's files with size and mtime (node_modules by its top level): a
 * command that writes there would fail on the image's read-only root file system.
 */
function snapshot(dir: string): string[] {
  const top = readdirSync(dir).filter((f) => f !== 'node_modules');
  const files = [
    ...top.flatMap((f) => [
      f,
      ...(statSync(join(dir, f)).isDirectory()
        ? readdirSync(join(dir, f), { recursive: true, encoding: 'utf8' }).map((g) => join(f, g))
        : []),
    ]),
    'node_modules',
    ...readdirSync(join(dir, 'node_modules')).map((f) => join('node_modules', f)),
  ];
  return files
    .map((f) => {
      const s = statSync(join(dir, f));
      return `${f} ${s.size} ${s.mtimeMs}`;
    })
    .sort();
}

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the image: packed, production dependencies only, each command runs', () => {
  let temp: string;
  let app: string;
  let work: string;
  let before: string[];

  beforeAll(() => {
    temp = mkdtempSync(join(tmpdir(), 'classops-image-'));
    // npm pack takes package.json "files": what the Dockerfile's final stage holds.
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', temp], ROOT)) as Array<{
      filename: string;
    }>;
    run('tar', ['-xzf', join(temp, packed!.filename), '-C', temp], temp);
    app = join(temp, 'package');
    copyFileSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    // The Dockerfile's deps stage (see there why npm install and not npm ci).
    run('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], app);
    work = join(temp, 'work');
    mkdirSync(work);
    before = snapshot(app);
  }, 300_000);

  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  test('holds production dependencies at the lock file versions, and no development ones', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    const installed = Object.keys(lock.packages).filter((p) => p !== '' && existsSync(join(app, p, 'package.json')));
    expect(installed.length).toBeGreaterThan(50);
    for (const path of installed) {
      const { version } = JSON.parse(readFileSync(join(app, path, 'package.json'), 'utf8')) as { version: string };
      expect([path, version, lock.packages[path]!.dev ?? false]).toEqual([path, lock.packages[path]!.version, false]);
    }
    for (const dev of ['typescript', 'jest', 'node', 'eslint', 'kubernetes-models'])
      expect([dev, existsSync(join(app, 'node_modules', dev))]).toEqual([dev, false]);
    expect(existsSync(join(app, 'node_modules', '@kubernetes/client-node'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
  });

  test("the Dockerfile's final stage is what this test installs", () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const { files } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    const copied = [...final.matchAll(/^COPY (?:--from=\w+ )?(.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(copied.map((c) => c.replace(/^\/app\//, '')).sort()).toEqual(
      [...files, 'node_modules', 'package.json'].sort(),
    );
    expect(dockerfile).toMatch(/AS deps\n[\s\S]*RUN npm install --omit=dev --ignore-scripts/);
    expect(final).toMatch(/^USER \d+:\d+$/m);
    expect(final).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/dist\/cli.js"\]$/m);
  });

  test.each(Object.entries(COMMANDS))('%s', (_name, c) => {
    const args = c.args.map((a) => a.replace('@app', app).replace('@work', work));
    if (args.includes(join(work, 'classops.yaml')))
      copyFileSync(join(ROOT, 'test/fixtures/image-config.yaml'), join(work, 'classops.yaml'));
    const result = spawnSync(process.execPath, [join(app, 'dist/cli.js'), ...args], {
      cwd: work,
      env: { PATH: process.env['PATH'], HOME: work, CLASSOPS_SOURCE_PATH: join(app, 'students') },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect([result.status, result.stdout]).toEqual([c.code, expect.stringMatching(c.stdout)]);
    c.after?.(work);
    expect(snapshot(app)).toEqual(before);
  });
});
