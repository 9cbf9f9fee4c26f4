import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { loadSchema } from '../../src/schemas.js';
import { classops, ROOT } from '../support/cli.js';

const REPO = join(ROOT, 'examples/course-repo');
const roster = readFileSync(join(REPO, 'students/week-01.yaml'), 'utf8');

describe('examples/course-repo: a course repository to copy', () => {
  let temp: string;
  beforeEach(() => {
    temp = mkdtempSync(join(tmpdir(), 'classops-course-'));
  });
  afterEach(() => rmSync(temp, { recursive: true, force: true }));

  test('its roster passes validate with its classops.yaml, and editors find the schema', () => {
    const result = classops(['validate', '--config', join(REPO, 'classops.yaml'), join(REPO, 'students')]);
    expect([result.code, result.stdout]).toEqual([0, expect.stringContaining('0 errors, 0 warnings in 1 file')]);
    expect(roster.split('\n')[0]).toBe(`# yaml-language-server: $schema=${String(loadSchema('roster')['$id'])}`);
    const config = loadConfig({ env: {}, file: join(REPO, 'classops.yaml') });
    expect(config.source).toMatchObject({ kind: 'git', path: 'students' });
  });

  test('the commented template, filled in as STUDENTS.md says, is a valid entry', () => {
    // Step 4: copy the block, remove "# " from each line, fill in your details.
    const filled = roster
      .split('\n')
      .map((line) => line.replace(/^ {2}# (?=( {2})?[- ] ?\w+:)/, '  '))
      .join('\n')
      .replaceAll('your-github-login', 'mallory-dev')
      .replace('Your Name', 'Mallory');
    expect(filled).not.toBe(roster);
    mkdirSync(join(temp, 'students'));
    writeFileSync(join(temp, 'students/week-01.yaml'), filled);
    const result = classops(['validate', '--config', join(REPO, 'classops.yaml'), join(temp, 'students')]);
    expect([result.code, result.stdout]).toEqual([0, expect.stringContaining('2 of 2 entries will deploy')]);
  });

  test('STUDENTS.md explains every finding and every image verdict that is the student to fix', () => {
    const students = readFileSync(join(REPO, 'STUDENTS.md'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const findings = readme.slice(
      readme.indexOf('### Findings'),
      readme.indexOf('\n## ', readme.indexOf('### Findings')),
    );
    const codes = [...findings.matchAll(/^\| ([^|]+)\|/gm)].flatMap((row) =>
      [...row[1]!.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]!),
    );
    expect(codes.length).toBeGreaterThan(30);
    expect(codes.filter((code) => !students.includes(`\`${code}\``))).toEqual([]);
    for (const code of ['image-private', 'image-repository-not-found', 'image-tag-not-found', 'image-platform-missing'])
      expect(codes).toContain(code);
    expect(students).toContain('Change visibility');
  });
});
