/**
 * `classops gallery --targets FILE` as an operator runs it, against real student apps on
 * 127.0.0.1 that behave well, slowly, never, or with hostile answers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'undici';
import { classops, CLI } from '../support/cli.js';
import { requireProgram, waitFor } from '../support/processes.js';
import { RunningClassops } from '../support/running.js';
import { closedPort, HOSTILE, StudentApp, type Behaviour } from '../support/student-apps.js';

const BEHAVIOURS: Array<[string, Behaviour]> = [
  ['ann', 'healthy'],
  ['Bo-Lee', 'healthy'],
  ['slowpoke', 'slow'],
  ['hangs', 'hang'],
  ['crashes', 'status-500'],
  ['halfjson', 'half-json'],
  ['huge', 'huge'],
  ['scripty', 'xss-script'],
  ['quoty', 'xss-attribute'],
  ['redirector', 'redirect'],
  ['copycat', 'impostor'],
  ['flasky', 'html'],
];

let dir: string;
let trap: StudentApp;
const apps = new Map<string, StudentApp>();
const running: RunningClassops[] = [];

beforeAll(async () => {
  // Where the redirecting app points: another host the gallery must never visit.
  trap = await StudentApp.start('trap', 'healthy');
  for (const [login, behaviour] of BEHAVIOURS)
    apps.set(login, await StudentApp.start(login, behaviour, `http://localhost:${trap.port}/student`));
});
afterAll(async () => {
  await Promise.all([...apps.values(), trap].map((a) => a.stop()));
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'classops-gallery-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

function targetsFile(entries: unknown[]): string {
  const file = join(dir, 'targets.json');
  writeFileSync(`${file}.tmp`, JSON.stringify(entries));
  // Replaced as editors and config management do: a new file renamed over the old one.
  execFileSync('mv', [`${file}.tmp`, file]);
  return file;
}

const entriesFor = async () => [
  ...BEHAVIOURS.map(([login], i) => ({
    github_username: login,
    url: apps.get(login)!.url,
    name: `Display ${login}`,
    week: i % 2 === 0 ? 1 : 2,
  })),
  { github_username: 'gone', url: `http://127.0.0.1:${await closedPort()}/student`, week: 2 },
];

async function startGallery(file: string, env: Record<string, string> = {}): Promise<RunningClassops> {
  const gallery = await RunningClassops.start(['--targets', file, '--port', '0'], {
    command: [process.execPath, CLI, 'gallery'],
    env: {
      CLASSOPS_GALLERY_HOST: '127.0.0.1',
      CLASSOPS_GALLERY_FETCH_TIMEOUT: '1s',
      CLASSOPS_GALLERY_REFRESH_INTERVAL: '2s',
      CLASSOPS_GALLERY_TITLE: 'Spring <b>2026</b>',
      ...env,
    },
  });
  running.push(gallery);
  return gallery;
}

async function students(gallery: RunningClassops): Promise<Map<string, any>> {
  const body = JSON.parse((await gallery.get('/api/students')).text);
  return new Map(body.students.map((s: any) => [s.github_username, s]));
}

async function allChecked(gallery: RunningClassops, count: number): Promise<void> {
  await waitFor(
    async () => {
      const list = [...(await students(gallery)).values()];
      return list.length === count && list.every((s) => s.status !== 'pending');
    },
    20_000,
    'every student checked',
    () => gallery.output,
  );
}

test('each misbehaving app gets its status, and the pages never wait for one', async () => {
  const file = targetsFile(await entriesFor());
  const gallery = await startGallery(file);
  expect((await gallery.get('/readyz')).status).toBe(200);

  // While the hanging app holds a fetch open, both pages answer (a 5 s bound, far below the hang).
  await waitFor(async () => apps.get('hangs')!.open > 0, 10_000, 'the gallery fetching the hanging app');
  for (const path of ['/gallery', '/api/students']) {
    const res = await fetch(`http://127.0.0.1:${gallery.port}${path}`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }

  await allChecked(gallery, BEHAVIOURS.length + 1);
  const byLogin = await students(gallery);
  const status = Object.fromEntries([...byLogin].map(([login, s]) => [login, s.status]));
  expect(status).toEqual({
    ann: 'live',
    'Bo-Lee': 'live',
    slowpoke: 'timeout',
    hangs: 'timeout',
    crashes: 'error',
    halfjson: 'invalid',
    huge: 'invalid',
    scripty: 'live',
    quoty: 'live',
    redirector: 'invalid',
    copycat: 'mismatch',
    flasky: 'invalid',
    gone: 'unreachable',
  });
  expect(byLogin.get('ann')).toMatchObject({
    name: 'Display ann',
    week: 1,
    reason: null,
    student: { name: 'Student ann', github_username: 'ann', container_tag: 'v1' },
    url: '/students/ann',
    lastLiveAt: expect.any(String),
    checkedAt: expect.any(String),
  });
  expect(byLogin.get('crashes').reason).toBe('HTTP 500');
  expect(byLogin.get('huge').reason).toBe('the answer is larger than 65536 bytes');
  expect(byLogin.get('redirector').reason).toMatch(/redirects to "http:\/\/localhost:\d+\/student"; redirects are not/);
  expect(byLogin.get('copycat').reason).toBe('the app says it belongs to "someone-else", not "copycat"');
  expect(byLogin.get('flasky').reason).toBe('the answer is not JSON');
  expect(byLogin.get('gone').reason).toMatch(/connection refused/);
  expect(byLogin.get('hangs').reason).toBe('no complete answer within 1000 ms');
  // JSON carries the hostile text as data; the page below is where it must be escaped.
  expect(byLogin.get('scripty').student.name).toBe(HOSTILE.scriptName);

  // No redirect was followed, and the 10 MiB body was cut off at the cap.
  expect(trap.requests).toBe(0);
  expect(apps.get('huge')!.finished).toBe(false);
  expect(apps.get('huge')!.bytesSent).toBeLessThan(10 * 1024 * 1024);

  const page = await gallery.get('/gallery');
  expect(page.text).not.toContain('<script>document.title');
  expect(page.text).not.toContain('<img src=x');
  expect(page.text).not.toContain("onmouseover='");
  expect(page.text).not.toContain('<b>2026</b>');
  expect(page.text).toContain('<title>Spring &lt;b&gt;2026&lt;/b&gt;</title>');
  expect(page.text).toContain('&lt;script&gt;document.title&#x3D;&quot;pwned&quot;;alert(1)&lt;/script&gt;');
  expect(page.text).toContain('&quot;&gt;&lt;img src&#x3D;x onerror&#x3D;');
  expect(page.text).toContain('&#x27; onmouseover&#x3D;&#x27;alert(4)&#x27;');
  expect(page.text).toMatch(/<strong>4<\/strong> live · <strong>9<\/strong> not live · 13 students/);
  expect(page.text).toContain('<a href="/students/bo-lee">Open the app');
  for (const words of ['Too slow', 'Server error', 'Invalid answer', 'Wrong student', 'Unreachable', 'Live'])
    expect(page.text).toContain(words);

  const metrics = (await gallery.get('/metrics')).text;
  expect(metrics).toMatch(/^classops_gallery_fetches_total\{status="timeout"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^classops_gallery_fetches_total\{status="live"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^classops_gallery_students_live\{week="01"\} 2$/m);
  expect(metrics).toMatch(/^classops_gallery_students_live\{week="02"\} 2$/m);
  expect(metrics).toMatch(/^classops_gallery_fetch_duration_seconds_count [1-9]\d*$/m);
  // Memory stays bounded with a 10 MiB answer refetched every 2 s (a generous 256 MiB ceiling).
  const rss = Number(/^classops_process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1]);
  expect(rss).toBeGreaterThan(0);
  expect(rss).toBeLessThan(256 * 1024 * 1024);
  const scrape = join(dir, 'metrics.txt');
  writeFileSync(scrape, metrics);
  const promtool = requireProgram('promtool', 'prometheus');
  expect(
    execFileSync('sh', ['-c', `${promtool} check metrics < ${scrape} 2>&1; echo "exit $?"`], {
      encoding: 'utf8',
    }).trim(),
  ).toBe('exit 0');
}, 60_000);

test('behind one host (one ingress for every student), hanging apps never make healthy ones time out', async () => {
  // One server answers every student's path, as an ingress does: 8 apps hang, 16 answer.
  const hanging = new Set(Array.from({ length: 8 }, (_, i) => `hang${i}`));
  const logins = [...hanging, ...Array.from({ length: 16 }, (_, i) => `ok${i}`)];
  const ingress = createServer((req, res) => {
    const login = /^\/students\/([^/]+)\/student$/.exec(req.url ?? '')?.[1] ?? '';
    if (hanging.has(login)) return; // never answers
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: `Student ${login}`, github_username: login, container_tag: 'v1' }));
  });
  await new Promise<void>((resolve) => ingress.listen(0, '127.0.0.1', () => resolve()));
  try {
    const { port } = ingress.address() as AddressInfo;
    const entries = logins.map((login) => ({
      github_username: login,
      url: `http://127.0.0.1:${port}/students/${login}/student`,
    }));
    const gallery = await startGallery(targetsFile(entries));
    await allChecked(gallery, logins.length);
    const status = [...(await students(gallery)).values()].map((s) => `${s.github_username}:${s.status}`).sort();
    expect(status).toEqual(logins.map((login) => `${login}:${hanging.has(login) ? 'timeout' : 'live'}`).sort());
  } finally {
    ingress.closeAllConnections();
    await new Promise((resolve) => ingress.close(resolve));
  }
}, 60_000);

test('what an app sends is cleaned before anyone reads it, and a reply that is not HTTP is invalid', async () => {
  const hostile = await Promise.all([
    StudentApp.start('unseen', 'unsafe-text'),
    StudentApp.start('tower', 'zalgo'),
    StudentApp.start('ancient', 'not-http'),
    StudentApp.start('cutoff', 'short-body'),
    StudentApp.start('cached', 'not-modified'),
    StudentApp.start('upgrader', 'switch-protocols'),
    StudentApp.start('continues', 'continue-only'),
    StudentApp.start('odd', 'status-below-100'),
    StudentApp.start('almost', 'status-299'),
  ]);
  try {
    const gallery = await startGallery(targetsFile(hostile.map((a) => ({ github_username: a.login, url: a.url }))));
    await allChecked(gallery, hostile.length);
    const text = (await gallery.get('/api/students')).text;
    // A lone surrogate would make the whole document unreadable to strict parsers (jq, Python's encoders).
    expect(text).not.toMatch(/\\ud[89a-f][0-9a-f]{2}/i);
    const byLogin = await students(gallery);
    // Invisible marks are gone: the login the app gives is the roster's, not a look-alike.
    expect(byLogin.get('unseen')).toMatchObject({
      status: 'live',
      student: { name: 'ABCD', github_username: 'unseen', container_tag: 'v1' },
    });
    // Four marks on a letter at most: the tower cannot spill over other students' cards.
    expect(byLogin.get('tower').student.container_tag).toBe('H' + '\u0489'.repeat(4));
    expect(byLogin.get('ancient')).toMatchObject({ status: 'invalid' });
    expect(byLogin.get('ancient').reason).toMatch(/^the answer is not valid HTTP: /);
    // Each answered, wrongly: invalid (not "unreachable"), in classops' words, never undici's.
    const invalid: Record<string, string> = {
      cutoff: 'the answer is not valid HTTP: the connection closed before the whole body came',
      cached: 'HTTP 304 is no answer to show: /student answers 200 with a JSON body',
      upgrader: 'the answer is not valid HTTP: it switches protocols (HTTP 101), which nothing asked for',
      continues:
        'the answer is not valid HTTP: it is no answer to the request (a 100 Continue nothing asked for, or an answer out of turn)',
      odd: 'the answer is not valid HTTP: its status line is not one of HTTP',
      almost: 'HTTP 299 is no answer to show: /student answers 200 with a JSON body',
    };
    for (const [login, reason] of Object.entries(invalid))
      expect([login, byLogin.get(login)]).toEqual([login, expect.objectContaining({ status: 'invalid', reason })]);
  } finally {
    await Promise.all(hostile.map((a) => a.stop()));
  }
}, 60_000);

test('an app’s Keep-Alive cannot hold the gallery’s idle connection open; a linkBase makes links absolute', async () => {
  const app = await StudentApp.start('lingers', 'keep-alive-long');
  try {
    const file = targetsFile([{ github_username: 'lingers', url: app.url }]);
    // No second round for a minute: only the gallery letting go of the idle socket can close it.
    const gallery = await startGallery(file, {
      CLASSOPS_GALLERY_REFRESH_INTERVAL: '60s',
      // A gallery on a host of its own links to the course host, where the students' apps are.
      CLASSOPS_GALLERY_LINK_BASE: 'https://course.example.edu',
    });
    await allChecked(gallery, 1);
    const lingers = (await students(gallery)).get('lingers');
    expect(lingers).toMatchObject({ status: 'live', url: 'https://course.example.edu/students/lingers' });
    expect((await gallery.get('/gallery')).text).toContain('<a href="https://course.example.edu/students/lingers">');
    await waitFor(async () => app.closedConnections > 0, 15_000, 'the gallery closing its idle connection');
  } finally {
    await app.stop();
  }
}, 40_000);

test('pages carry a strict CSP, are compressed, and answer 304 to a matching ETag', async () => {
  const gallery = await startGallery(targetsFile([{ github_username: 'ann', url: apps.get('ann')!.url }]));
  await allChecked(gallery, 1);
  const url = `http://127.0.0.1:${gallery.port}`;
  const page = await request(`${url}/gallery`, { headers: { 'accept-encoding': 'gzip' } });
  const csp = String(page.headers['content-security-policy']);
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("default-src 'none'");
  expect(csp).not.toContain('unsafe-inline');
  expect(page.headers['x-content-type-options']).toBe('nosniff');
  expect(page.headers['content-encoding']).toBe('gzip');
  expect(page.headers['cache-control']).toBe('public, max-age=5');
  expect(gunzipSync(Buffer.from(await page.body.arrayBuffer())).toString()).toContain('Student ann');

  const api = await request(`${url}/api/students`);
  const etag = String(api.headers['etag']);
  await api.body.dump();
  const again = await request(`${url}/api/students`, { headers: { 'if-none-match': etag } });
  await again.body.dump();
  // The snapshot may move on between the two requests (a refresh); then a fresh 200 is right.
  expect([304, 200]).toContain(again.statusCode);
  if (again.statusCode === 200) expect(again.headers['etag']).not.toBe(etag);

  for (const asset of ['/gallery/gallery.js', '/gallery/gallery.css']) {
    const res = await request(`${url}${asset}`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  }
}, 30_000);

test('the targets file is re-read on change; a broken one keeps the old targets', async () => {
  const file = targetsFile([{ github_username: 'ann', url: apps.get('ann')!.url, week: 1 }]);
  const gallery = await startGallery(file);
  await allChecked(gallery, 1);

  targetsFile([
    { github_username: 'ann', url: apps.get('ann')!.url, week: 1 },
    { github_username: 'Bo-Lee', url: apps.get('Bo-Lee')!.url, week: 1 },
  ]);
  await allChecked(gallery, 2);
  expect((await students(gallery)).get('Bo-Lee').status).toBe('live');

  const logged = gallery.logs().length;
  writeFileSync(file, '[{"github_username": "ann", "url": ');
  await gallery.waitForLog(/targets file is invalid; keeping the previous targets/, 10_000, logged);
  expect([...(await students(gallery)).keys()]).toEqual(['ann', 'Bo-Lee']);
}, 30_000);

test('a broken targets file at start is a clear error', () => {
  const file = join(dir, 'targets.json');
  writeFileSync(file, JSON.stringify([{ github_username: 'ann', url: 'ftp://example.com/student' }]));
  const result = classops(['gallery', '--targets', file, '--port', '0']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(`classops gallery: targets file ${file} must be a JSON array of`);
  expect(result.stderr).toContain('/0/url must match pattern');

  const missing = classops(['gallery', '--targets', join(dir, 'nope.json')]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toMatch(/cannot read targets file .*nope\.json/);

  // A FIFO would block the whole process; a link to /dev/zero would be read until memory runs out.
  const fifo = join(dir, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  const zero = join(dir, 'zero.json');
  symlinkSync('/dev/zero', zero);
  for (const [special, kind] of [
    [fifo, 'a named pipe (FIFO)'],
    [zero, 'a device'],
  ]) {
    const refused = classops(['gallery', '--targets', special!, '--port', '0']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`cannot read targets file ${special}: it is ${kind}, not a regular file`);
  }
});

test('without targets or a cluster, it says what to give it', () => {
  const result = classops(['gallery', '--port', '0']);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain('no targets: pass --targets FILE');
});
