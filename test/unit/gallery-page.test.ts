/** The gallery page escapes whatever a student's app says, in every context it lands in. */
import { answerStatus, checkAnswer } from '../../src/gallery/student-answer.js';
import type { Snapshot, StudentRecord } from '../../src/gallery/collector.js';
import { renderGalleryPage } from '../../src/gallery/page.js';
import { PAGE_TEMPLATE } from '../../src/gallery/page-template.js';

const options = {
  title: 'Gallery',
  base: '/gallery',
  apiPath: '/api/students',
  refreshSeconds: 15,
  appLink: (login: string) => `/students/${encodeURIComponent(login.toLowerCase())}`,
};

function record(partial: Partial<StudentRecord> & { login: string; name?: string }): StudentRecord {
  return {
    target: {
      key: partial.login,
      githubUsername: partial.login,
      name: partial.name,
      week: 3,
      url: 'http://127.0.0.1:1/student',
      known: undefined,
    },
    status: partial.status ?? 'live',
    reason: partial.reason,
    answer: partial.answer,
    checkedAt: '2026-03-01T10:00:00.000Z',
    lastLiveAt: partial.lastLiveAt,
  };
}

const snapshot = (students: StudentRecord[]): Snapshot => ({
  version: 1,
  updatedAt: '2026-03-01T10:00:05.000Z',
  students,
});

test('the template never uses raw (unescaped) output', () => {
  expect(PAGE_TEMPLATE).not.toMatch(/\{\{\{|\{\{&/);
});

test('hostile answers are escaped as text and inside attributes', () => {
  const checked = checkAnswer(
    JSON.stringify({
      name: '"><svg onload=alert(1)>',
      github_username: 'ann',
      container_tag: "</dd><script>alert('x')</script>",
    }),
  );
  if (!('answer' in checked)) throw new Error('expected an answer');
  const html = renderGalleryPage(
    snapshot([
      record({ login: 'ann', answer: checked.answer }),
      record({
        login: 'bo',
        name: 'Bo" data-x="<b>',
        status: 'mismatch',
        reason: 'the app says it belongs to "<i>eve</i>"',
      }),
    ]),
    options,
  );
  expect(html).not.toContain('<svg');
  expect(html).not.toContain('<script>alert');
  expect(html).not.toContain('<i>eve');
  expect(html).toContain('<dd>&quot;&gt;&lt;svg onload&#x3D;alert(1)&gt;</dd>');
  // In an attribute, the quote is escaped and the value stays one attribute.
  expect(html).toContain('data-search="bo&quot; data-x&#x3D;&quot;&lt;b&gt; bo wrong student mismatch"');
  expect(html).toContain('<p class="reason">the app says it belongs to &quot;&lt;i&gt;eve&lt;/i&gt;&quot;</p>');
  expect(html).toMatch(/<strong>1<\/strong> live · <strong>1<\/strong> not live · 2 students/);
  expect(html).toContain('<h2 id="week-3">Week 3');
});

test('answers are checked for shape and bounded', () => {
  expect(checkAnswer('<html>')).toEqual({ problem: 'the answer is not JSON' });
  expect(checkAnswer('[1]')).toEqual({ problem: 'the answer is not a JSON object' });
  expect(checkAnswer('{"name": 1, "github_username": "a"}')).toEqual({
    problem: 'the answer has no string name, container_tag',
  });
  const long = checkAnswer(
    JSON.stringify({ name: 'x'.repeat(5000), github_username: 'a\u202eb\u0000', container_tag: 'v1' }),
  );
  if (!('answer' in long)) throw new Error('expected an answer');
  expect([...long.answer.name]).toHaveLength(200);
  expect(long.answer.github_username).toBe('ab');
});

test('a tower of marks stays four high, even with joiners between them; scripts and emoji that need joiners keep them', () => {
  const answer = (tag: string) => {
    const checked = checkAnswer(JSON.stringify({ name: 'n', github_username: 'a', container_tag: tag }));
    return 'answer' in checked ? checked.answer.container_tag : checked.problem;
  };
  const marks = (text: string) => [...text].filter((c) => /\p{M}/u.test(c)).length;
  expect(marks(answer('H' + '\u0489'.repeat(199)))).toBe(4);
  expect(marks(answer('H' + '\u0489\u200d'.repeat(180)))).toBe(4);
  expect(marks(answer('H' + '\u0489\u200c'.repeat(180)))).toBe(4);
  expect(answer('क्‍ष ❤️‍🔥 👩🏽‍💻')).toBe('क्‍ष ❤️‍🔥 👩🏽‍💻');
});

test('an app that answers for someone else names no one: the card keeps the login, the reason shows hidden joiners', () => {
  const impostor = { name: 'Ann Real-Name', github_username: 'z\u200dw', container_tag: 'v1' };
  const verdict = answerStatus(impostor, 'zw');
  // A joiner would make "z‍w" read as "zw": a login is ASCII, so anything else shows as its escape.
  expect(verdict).toEqual({ status: 'mismatch', reason: 'the app says it belongs to "z\\u200dw", not "zw"' });
  // A quote cannot end the claimed login early and make the reason read as another.
  expect(answerStatus({ ...impostor, github_username: 'x", not "zw' }, 'zw').reason).toBe(
    'the app says it belongs to "x\\", not \\"zw", not "zw"',
  );
  // Past a login's 39 characters the claim is cut, so escapes cannot make the reason a wall of text.
  expect(
    answerStatus({ ...impostor, github_username: `${'a'.repeat(38)}\u200d${'\u200d'.repeat(160)}` }, 'zw'),
  ).toEqual({
    status: 'mismatch',
    reason: `the app says it belongs to "${'a'.repeat(38)}\\u200d"…, not "zw"`,
  });
  const page = renderGalleryPage(
    snapshot([
      record({ login: 'zw', status: 'mismatch', reason: verdict.reason, answer: impostor }),
      record({ login: 'ann', status: 'live', answer: { ...impostor, github_username: 'ANN' } }),
    ]),
    options,
  );
  const headings = [...page.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]);
  expect(headings).toEqual(['zw', 'Ann Real-Name']);
});
