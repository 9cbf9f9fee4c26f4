import { validateRoster } from '../../src/roster/validate.js';
import { defaultPolicy, rosterText } from '../support/rosters.js';

const HEADER_LINES = 5; // rosterText's header, up to and including `students:`
const entry = (login: string) =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login}/app:v1"\n`;
const keys = (n: number, indent: string) => Array.from({ length: n }, (_, i) => `${indent}k${i}: ${i}\n`).join('');

/** Work per file is bounded: huge mappings and sequences give a finding, in linear time (bench/parse.mjs times them). */
describe('large and deep YAML', () => {
  test('a duplicate key after 40 000 others is found, with both lines', () => {
    const text = rosterText(`${entry('ann')}    extra:\n${keys(40_000, '      ')}      k7: again\n`);
    const report = validateRoster('week-01.yaml', Buffer.from(text), defaultPolicy());
    const duplicateLine = HEADER_LINES + 4 + 40_000 + 1;
    expect(report.findings.map((f) => [f.line, f.code])).toEqual([[duplicateLine, 'yaml-duplicate-key']]);
    expect(report.findings[0]!.message).toBe(
      `"k7" appears twice in the same mapping (first on line ${HEADER_LINES + 4 + 8}).`,
    );
    expect(report.complete).toBe(false);
  });

  test('a key that is "1" once as a number and once as text is a duplicate: both would be one field', () => {
    const text = rosterText(`${entry('ann')}    1: a\n    "1": b\n`);
    const report = validateRoster('week-01.yaml', Buffer.from(text), defaultPolicy());
    expect(report.findings.map((f) => [f.line, f.code, f.message])).toEqual([
      [10, 'yaml-duplicate-key', '"1" appears twice in the same mapping (first on line 9).'],
    ]);
  });

  test('10 000 unknown keys in one entry: each warned about on its own line', () => {
    const text = rosterText(`${entry('ann')}${keys(10_000, '    ')}`);
    const report = validateRoster('week-01.yaml', Buffer.from(text), defaultPolicy());
    expect(report.findings).toHaveLength(10_000);
    expect(report.findings.every((f) => f.code === 'unknown-key')).toBe(true);
    expect(report.findings[0]!.line).toBe(HEADER_LINES + 4);
    expect(report.findings[9_999]!.line).toBe(HEADER_LINES + 3 + 10_000);
    expect(report.findings[9_999]!.message).toBe('"k9999" is not a field classops knows, so it is ignored.');
  });

  test.each([
    ['a block sequence', `    extra:\n${'      - 1\n'.repeat(100_000)}`],
    ['a flow sequence', `    extra: [${'1,'.repeat(400_000)}1]\n`],
    ['nested flow sequences', `    extra: ${'['.repeat(60_000)}${']'.repeat(60_000)}\n`],
  ])('a 1 MiB file with one huge item (%s) is refused before it is parsed', (_, extra) => {
    const text = rosterText(`${entry('ann')}${extra}`);
    const report = validateRoster('week-01.yaml', Buffer.from(text), defaultPolicy());
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024 * 1024);
    expect(report.findings.map((f) => [f.line, f.code])).toEqual([[1, 'file-too-complex']]);
    expect(report.findings[0]!.message).toMatch(
      /^The file holds about \d{5,6} YAML lines and values; a roster of at most 5000 entries needs no more than 50100\.$/,
    );
    expect(report.complete).toBe(false);
  });

  test('the largest roster the limits allow is not refused: 5 000 commented entries', () => {
    const entries = Array.from(
      { length: 5000 },
      (_, i) => `  # student ${i}, week 1\n${entry(`s${i}`)}    port: 8080\n`,
    );
    const report = validateRoster('week-01.yaml', Buffer.from(rosterText(entries.join(''))), defaultPolicy());
    expect(report.findings).toEqual([]);
    expect(report.entries.filter((e) => e.entry !== undefined)).toHaveLength(5000);
  });
});
