/**
 * The gallery in a real browser: Debian's chromium driven by playwright-core (no browser
 * download). Hostile student apps must not run a line of script; the filter must work.
 * Leaves test-artifacts/gallery.png behind as the run's screenshot.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CLI, ROOT } from '../support/cli.js';
import { requireProgram, waitFor } from '../support/processes.js';
import { RunningClassops } from '../support/running.js';
import { HOSTILE, StudentApp, type Behaviour } from '../support/student-apps.js';

const APPS: Array<[string, string, Behaviour, number]> = [
  ['ann', 'Ann Example', 'healthy', 1],
  ['Bo-Lee', 'Bo Lee', 'healthy', 1],
  ['scripty', 'Sam Script', 'xss-script', 1],
  ['quoty', 'Quinn Quote', 'xss-attribute', 2],
  ['copycat', 'Cat Copy', 'impostor', 2],
  ['crashes', 'Cris Crash', 'status-500', 2],
  ['hangs', 'Hal Hang', 'hang', 2],
];
const TITLE = 'Container course: gallery';

let dir: string;
let gallery: RunningClassops | undefined;
let browser: BrowserContext | undefined;
const apps: StudentApp[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'classops-browser-'));
  const targets = [];
  for (const [login, name, behaviour, week] of APPS) {
    const app = await StudentApp.start(login, behaviour);
    apps.push(app);
    targets.push({ github_username: login, name, url: app.url, week });
  }
  writeFileSync(join(dir, 'targets.json'), JSON.stringify(targets));
  gallery = await RunningClassops.start(['--targets', join(dir, 'targets.json'), '--port', '0'], {
    command: [process.execPath, CLI, 'gallery'],
    env: {
      CLASSOPS_GALLERY_HOST: '127.0.0.1',
      CLASSOPS_GALLERY_FETCH_TIMEOUT: '1s',
      CLASSOPS_GALLERY_TITLE: TITLE,
    },
  });
  await waitFor(
    async () =>
      JSON.parse((await gallery!.get('/api/students')).text).students.every((s: any) => s.status !== 'pending'),
    20_000,
    'every student checked',
    () => gallery!.output,
  );
  const executablePath = requireProgram('chromium', 'chromium');
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath,
    headless: true,
    viewport: { width: 1100, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gallery?.stop('SIGKILL');
  await Promise.all(apps.map((a) => a.stop()));
  rmSync(dir, { recursive: true, force: true });
});

test('no student script runs, the filter works, and the page is saved as a screenshot', async () => {
  const page = await browser!.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`http://127.0.0.1:${gallery!.port}/gallery`, { waitUntil: 'load' });

  // Hover every answer, where an injected onmouseover would fire.
  for (const dd of await page.locator('.answer dd').all()) await dd.hover();
  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
  expect(await page.title()).toBe(TITLE);
  const scripts = await Promise.all((await page.locator('script').all()).map((s) => s.getAttribute('src')));
  const dom = {
    images: await page.locator('img').count(),
    handlers: await page.locator('[onerror],[onload],[onmouseover]').count(),
    scripts,
  };
  expect(dom).toEqual({ images: 0, handlers: 0, scripts: ['/gallery/gallery.js'] });
  // What the hostile apps said is shown, as text.
  await expect(page.locator('.card', { hasText: '@scripty' }).locator('dd').first().textContent()).resolves.toBe(
    HOSTILE.scriptName,
  );
  await expect(page.locator('.card', { hasText: '@quoty' }).locator('dd').first().textContent()).resolves.toBe(
    HOSTILE.attributeName,
  );
  await expect(page.locator('#counts').textContent()).resolves.toBe('4 live · 3 not live · 7 students');

  const visible = () => page.locator('.card:visible h3').allTextContents();
  await page.getByLabel('Filter by name, login or status').fill('bo-lee');
  await expect(visible()).resolves.toEqual(['Bo Lee']);
  await expect(page.locator('#filter-result').textContent()).resolves.toBe('1 student shown');
  await page.getByLabel('Filter by name, login or status').fill('wrong student');
  await expect(visible()).resolves.toEqual(['Cat Copy']);
  await expect(page.locator('section:visible h2').allTextContents()).resolves.toEqual([
    expect.stringMatching(/^Week 2/),
  ]);
  await page.getByLabel('Filter by name, login or status').fill('');
  await expect(visible()).resolves.toHaveLength(7);

  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
  const shot = join(ROOT, 'test-artifacts', 'gallery.png');
  await page.screenshot({ path: shot, fullPage: true });
  expect(execFileSync('file', ['-b', shot], { encoding: 'utf8' })).toMatch(/^PNG image data/);
  await page.close();
}, 60_000);
