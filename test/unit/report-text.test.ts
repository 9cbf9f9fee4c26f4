import { NO_METADATA, type RosterReport } from '../../src/roster/model.js';
import { formatJson, formatText } from '../../src/roster/report.js';

/** validate's text output, as lines, for findings at these columns of a one-line file. */
function shown(line: string, columns: readonly number[]): string[] {
  const report: RosterReport = {
    file: 'week-01.yaml',
    complete: true,
    metadata: NO_METADATA,
    studentsLine: 1,
    entries: [],
    findings: columns.map((column) => ({
      code: 'name-invalid',
      severity: 'error' as const,
      message: 'm',
      file: 'week-01.yaml',
      line: 1,
      column,
    })),
  };
  return formatText([report], { color: false, sources: new Map([['week-01.yaml', line]]) }).split('\n');
}

/** The caret line under a finding at `column` of `line`, as validate prints it. */
function caretUnder(line: string, column: number): string {
  const out = shown(line, [column]);
  const caret = out.find((l) => l.endsWith('^'))!;
  return caret.slice(caret.indexOf('| ') + 2);
}

describe('the caret sits under the column as a terminal draws the line', () => {
  test.each([
    ['plain ASCII', 'name: x', 7, '      ^'],
    ['wide CJK characters take two columns each', '李雷: x', 5, '      ^'],
    ['an emoji takes two columns, whatever its UTF-16 length', '😀 x', 4, '   ^'],
    ['combining accents take none', 'e\u0301e\u0301 x', 6, '   ^'],
    ['joiners take none', 'a\u200cb x', 5, '   ^'],
    ['a tab is shown as two spaces', '\tx', 2, '  ^'],
    ['an escape shown for a direction mark takes its own width', '\u202ex', 2, '      ^'],
    ['a flag is two columns', '🇧🇷 x', 6, '   ^'],
    ['a skin-toned and a joined emoji are two columns each', '👋🏾👩🏽\u200d💻 x', 13, '     ^'],
    ['a pictograph asking to be an emoji is two columns', '❤\ufe0f x', 4, '   ^'],
    ['a Hangul syllable written as three jamo is two columns', '\u1100\u1161\u11a8 x', 5, '   ^'],
  ])('%s', (_, line, column, caret) => {
    expect(caretUnder(line, column)).toBe(caret);
  });
});

test('a very long line is shown around the column, not whole, with the caret under it', () => {
  const line = `  - name: "${'A'.repeat(200_000)}"`;
  const out = shown(line, [11, 100_011]);
  expect(out.filter((l) => l.startsWith('    1 | '))).toEqual([
    `    1 |   - name: "${'A'.repeat(149)}…`,
    `    1 | …${'A'.repeat(160)}…`,
  ]);
  const carets = out.filter((l) => l.endsWith('^')).map((l) => l.slice(l.indexOf('| ') + 2));
  expect(carets).toEqual([`${' '.repeat(10)}^`, `${' '.repeat(61)}^`]);
  expect(out.every((l) => l.length < 200)).toBe(true);
});

test('json shows a login as written the way messages do: hidden characters escaped, at most 80 characters', () => {
  const report = (login: string): RosterReport => ({
    file: 'week-01.yaml',
    complete: true,
    metadata: NO_METADATA,
    studentsLine: 1,
    entries: [{ index: 0, line: 6, githubUsername: login, entry: undefined, findings: [] } as never],
    findings: [],
  });
  const login = (text: string) =>
    (JSON.parse(formatJson([report(text)])) as { files: [{ entries: [{ githubUsername: string }] }] }).files[0]
      .entries[0].githubUsername;
  expect(login('octo-cat')).toBe('octo-cat');
  expect(login('u2\u202e')).not.toContain('\u202e');
  expect(login('A'.repeat(200_000))).toBe(`${'A'.repeat(80)}…`);
});
