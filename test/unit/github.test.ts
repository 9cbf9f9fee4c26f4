/** The GitHub feedback: which pushes matter, hostile reports, entry lines, status wording, and the client's reading of answers. */
import { createServer, type AddressInfo } from 'node:net';
import { loadConfig } from '../../src/config.js';
import { State } from '../../src/controller/state.js';
import { githubClient } from '../../src/github/client.js';
import { annotationsOf, countErrors, formatComment } from '../../src/github/pr-comment.js';
import { readReport, ReportError } from '../../src/github/report-file.js';
import { entryLines, wantedStatuses } from '../../src/github/statuses.js';
import { pushTouches } from '../../src/github/webhook.js';
import { rosterText } from '../support/rosters.js';

const config = loadConfig({ env: {}, overrides: { render: { routing: { host: 'course.example.edu' } } } });

describe('which pushes start a reconcile', () => {
  const push = (ref: string, files: string[], extra: Record<string, unknown> = {}) => ({
    ref,
    commits: [{ added: [], removed: [], modified: files }],
    ...extra,
  });
  test.each([
    ['the watched branch, a roster file', push('refs/heads/main', ['students/week-01.yaml']), true],
    ['a removed roster file', { ref: 'refs/heads/main', commits: [{ removed: ['students/week-02.yaml'] }] }, true],
    ['another branch', push('refs/heads/feature', ['students/week-01.yaml']), false],
    ['a tag', push('refs/tags/main', ['students/week-01.yaml']), false],
    ['files outside the folder', push('refs/heads/main', ['README.md', 'studentsX/a.yaml']), false],
    ['a deleted branch', push('refs/heads/main', ['students/week-01.yaml'], { deleted: true }), false],
    ['no file lists (a new branch)', { ref: 'refs/heads/main', commits: [] }, true],
    ['a garbled commit list', { ref: 'refs/heads/main', commits: 'x' }, true],
    [
      'a force-push, whose commits need not show what it took away',
      push('refs/heads/main', ['README.md'], { forced: true }),
      true,
    ],
  ])('%s', (_name, payload, expected) => {
    expect(pushTouches(payload, 'main', 'students/')).toBe(expected);
  });
});

describe('a report read back from an artifact is hostile', () => {
  test('not JSON, or not a report, is refused', () => {
    expect(() => readReport('{')).toThrow(ReportError);
    expect(() => readReport('{"files": 3}')).toThrow(ReportError);
  });

  test('malformed findings and entries are dropped, text is bounded', () => {
    const files = readReport(
      JSON.stringify({
        files: [
          {
            file: 'students/week-01.yaml',
            entries: [
              { index: 0, line: 6, githubUsername: 'x'.repeat(5000), valid: 'yes', changed: true },
              { index: -1 },
            ],
            findings: [
              { code: 'Bad Code!', severity: 'error', message: 'm', line: 1 },
              { code: 'ok', severity: 'fatal', message: 'm', line: 1 },
              { code: 'image-private', severity: 'error', message: 'm'.repeat(5000), line: 7, entryIndex: 0 },
            ],
          },
          'not a file',
        ],
      }),
    );
    expect(files).toHaveLength(1);
    expect(files[0]!.entries).toEqual([
      { index: 0, line: 6, githubUsername: 'x'.repeat(2000), valid: false, changed: true },
    ]);
    expect(files[0]!.findings.map((f) => [f.code, f.message.length, f.column])).toEqual([['image-private', 2000, 1]]);
  });

  test('thousands of warnings never push an error out of the verdict, the comment or the annotations', () => {
    const warnings = Array.from({ length: 6000 }, (_, i) => ({
      code: 'unknown-key',
      severity: 'warning',
      message: `x${i}`,
      line: 7 + i,
      entryIndex: 0,
    }));
    const error = { code: 'author-mismatch', severity: 'error', message: 'changes ann', line: 6010, entryIndex: 1 };
    const files = readReport(
      JSON.stringify({
        files: [
          { file: 'students/week-01.yaml', entries: [], findings: warnings },
          { file: 'students/week-02.yaml', entries: [], findings: [error] },
        ],
      }),
    );
    expect(countErrors(files)).toBe(1);
    expect(files.flatMap((f) => f.findings)).toHaveLength(5000);
    expect(formatComment(files)).toContain('### ❌ classops: 1 problem to fix');
    const annotations = annotationsOf(files);
    expect(annotations.length).toBeLessThanOrEqual(500);
    expect(annotations[0]).toMatchObject({ annotation_level: 'failure', title: 'classops author-mismatch' });
  });

  test('annotations show direction marks and control codes in a report as escapes', () => {
    const files = readReport(
      JSON.stringify({
        files: [
          {
            file: 'students/week-01.yaml',
            entries: [],
            findings: [
              {
                code: 'name-invalid',
                severity: 'error',
                message: 'Eve \u202eevil\u001b[2J',
                hint: 'a\u2028b',
                line: 6,
              },
            ],
          },
        ],
      }),
    );
    expect(annotationsOf(files)[0]!.message).toBe('Eve \\u202eevil\\u001b[2J\nFix: a\\u2028b');
  });

  test('hundreds of broken entries never push a file-level problem out of the comment or the annotations', () => {
    const entries = Array.from({ length: 600 }, (_, i) => ({
      index: i,
      line: 6 + 3 * i,
      githubUsername: `s${i}`,
      valid: false,
      changed: true,
    }));
    const findings = [
      ...entries.map((e) => ({
        code: 'image-invalid',
        severity: 'error' as const,
        message: `${'m'.repeat(150)} ${e.index}`,
        file: 'students/week-01.yaml',
        line: e.line,
        column: 1,
        entryIndex: e.index,
      })),
      {
        code: 'author-other-file',
        severity: 'error' as const,
        message: 'This pull request changes .github/workflows/x.yml',
        file: '.github/workflows/x.yml',
        line: 1,
        column: 1,
      },
    ];
    const body = formatComment([{ file: 'students/week-01.yaml', entries, findings }]);
    expect(body.length).toBeLessThan(65_536);
    expect(body).toContain('This pull request changes .github/workflows/x.yml');
    const rows = body.split('\n').filter((l) => l.startsWith('| '));
    expect(rows.at(-1)).toMatch(/^\| … \| \d+ more not shown \| see the check run's annotations \|$/);
    const annotations = annotationsOf([{ file: 'students/week-01.yaml', entries, findings }]);
    expect(annotations).toHaveLength(500);
    expect(annotations[0]).toMatchObject({ title: 'classops author-other-file' });
  });

  test('a login GitHub would read as an issue reference (GH-1) is not one', () => {
    const body = formatComment([
      {
        file: 'students/week-01.yaml',
        entries: [{ index: 0, line: 6, githubUsername: 'GH-1', valid: true, changed: true }],
        findings: [],
      },
    ]);
    expect(body).not.toMatch(/\bGH-\d/i);
    expect(body).toContain('| GH\u200b-1 |');
  });

  test('dollar signs a student wrote are not math: GitHub would render $…$ as a formula, in any size or colour', () => {
    const image = String.raw`ghcr.io/eve/$\huge{HACKED}$:v1 $$x$$`;
    const body = formatComment([
      {
        file: 'students/week-01.yaml',
        entries: [{ index: 0, line: 6, githubUsername: 'eve', valid: false, changed: true }],
        findings: [
          {
            code: 'image-invalid',
            severity: 'error',
            message: `The image ${image} is not an image reference.`,
            file: 'students/week-01.yaml',
            line: 8,
            column: 5,
            entryIndex: 0,
          },
        ],
      },
    ]);
    expect(body).not.toContain('$');
    expect(body).toContain(String.raw`ghcr.io/eve/&#36;\\huge\{HACKED\}&#36;:v1 &#36;&#36;x&#36;&#36; is not`);
  });

  test('the comment lists only changed entries and escapes what students wrote', () => {
    const body = formatComment([
      {
        file: 'students/week-01.yaml',
        entries: [
          { index: 0, line: 6, githubUsername: 'ann', valid: true, changed: false },
          { index: 1, line: 9, githubUsername: '<b>@team</b>|www.evil.example', valid: true, changed: true },
        ],
        findings: [],
      },
    ]);
    expect(body).not.toContain('| ann |');
    expect(body).toContain(
      '| &lt;b&gt;@\u200bteam&lt;/b&gt;\\|www\u200b.evil.example | students/week-01.yaml line 9 | ✅ valid',
    );
    expect(body).toContain('### ✅ classops: every entry in this pull request is valid');
  });
});

describe('commit statuses', () => {
  test("an entry's lines run to the next entry", () => {
    const entry = (login: string) =>
      `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login}/app:v1"\n`;
    const bytes = Buffer.from(rosterText(entry('ann') + '  # a comment\n' + entry('Bo')));
    expect(entryLines('w.yaml', bytes, 'ann', config.policy)).toEqual({ from: 6, to: 9 });
    expect(entryLines('w.yaml', bytes, 'bo', config.policy)).toEqual({ from: 10, to: 12 });
    expect(entryLines('w.yaml', bytes, 'cy', config.policy)).toBeUndefined();
  });

  test('ready, failing and starting students; reasons are cut to 140 characters', () => {
    const state = new State();
    const student = (login: string, extra: Record<string, unknown>) => ({
      namespace: 'ns',
      week: 1,
      file: 'students/week-01.yaml',
      githubUsername: login,
      name: login,
      deployment: 'deployed' as const,
      reason: undefined,
      image: undefined,
      verdict: undefined,
      findings: [],
      health: undefined,
      service: undefined,
      studentEndpoint: '/student',
      ...extra,
    });
    const ann = {
      week: { file: 'students/week-01.yaml', week: 1, namespace: 'ns' },
      entry: {
        name: 'Ann',
        githubUsername: 'Ann',
        containerImage: 'ghcr.io/ann/app:v1',
        studentEndpoint: '/student',
        healthEndpoint: '/health',
        port: 5000,
      },
      digest: undefined,
    };
    state.commit({
      revision: 'r',
      result: 'success',
      lastGood: new Map([['ns/ann', ann]]),
      files: [],
      students: [
        student('Ann', { health: { phase: 'Ready', reason: undefined } }),
        student('bo', { health: { phase: 'Failing', reason: 'CrashLoopBackOff' } }),
        student('cy', { deployment: 'absent', reason: 'r'.repeat(300) }),
        student('dee', { health: { phase: 'Pending', reason: 'waiting for a pod' } }),
      ],
      errors: [],
      writes: 0,
      refusedPrunes: [],
      durationSeconds: 0,
      finishedAt: new Date(),
    });
    const wanted = wantedStatuses(state, config.render);
    expect(wanted.map((w) => [w.context, w.state, w.targetUrl])).toEqual([
      ['classops/ann', 'success', 'http://course.example.edu/students/ann/student'],
      ['classops/bo', 'failure', undefined],
      ['classops/cy', 'failure', undefined],
    ]);
    expect(wanted[1]!.description).toBe('Not running: CrashLoopBackOff');
    expect([...wanted[2]!.description]).toHaveLength(140);
  });
});

describe('the GitHub client', () => {
  test('an answer whose reason phrase fetch would refuse to copy is read all the same, once', async () => {
    // A proxy or GitHub Enterprise may send a reason phrase in Latin-1, which fetch keeps but
    // a new Response refuses: the answer must still be read, not failed and retried.
    let requests = 0;
    const server = createServer((socket) => {
      socket.once('data', () => {
        requests += 1;
        const body = '{"login":"prof"}';
        socket.end(
          Buffer.concat([
            Buffer.from('HTTP/1.1 200 '),
            Buffer.from([0xe9, 0x74, 0xe9]), // "été" in Latin-1
            Buffer.from(
              `\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
            ),
          ]),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const octokit = await githubClient({ token: 't', baseUrl: `http://127.0.0.1:${port}`, warn: () => undefined });
      const { data } = await octokit.request('GET /user');
      expect([data, requests]).toEqual([{ login: 'prof' }, 1]);
    } finally {
      server.close();
    }
  });
});
