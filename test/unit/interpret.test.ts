/**
 * The whole pipeline from file bytes, with the real image checker against a loopback
 * registry that records what it was asked: which images are checked, and the findings
 * their verdicts become.
 */
import { loadConfig } from '../../src/config.js';
import { interpretRosters } from '../../src/pipeline/interpret.js';
import { ImageChecker } from '../../src/registry/checker.js';
import { FaultyRegistry } from '../support/faulty-registry.js';
import { rosterText } from '../support/rosters.js';

let registry: FaultyRegistry;
beforeAll(async () => {
  registry = await new FaultyRegistry({ tokenSeconds: 300 }).start();
});
afterAll(async () => {
  await registry.stop();
});

const entry = (login: string, image: string, extra = '') =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "${image}"\n${extra}`;

function course() {
  return loadConfig({
    env: {},
    overrides: {
      registry: { timeout: '5s' },
      policy: { allowedRegistries: [registry.host], imageOwnerMustMatchUsername: false },
    },
  });
}

test('only valid images without an image error are checked; verdicts become findings on the image’s line', async () => {
  const config = course();
  const host = registry.host;
  const roster = [
    entry('ann', `${host}/good/app:v1`),
    entry('bo', `${host}/manifest-401/app:v1`),
    entry('cy', `${host}/rate-limit/app:latest`),
    entry('dee', `${host}/server-error/app:v1`, '    port: 0\n'),
    entry('eve', `docker.io/eve/app:v1`),
    entry('fay', 'not an image'),
  ].join('');
  const { reports, verdicts } = await interpretRosters({
    files: new Map([['students/week-01.yaml', Buffer.from(rosterText(roster))]]),
    unreadable: new Map([['students/week-02.yaml', 'permission denied']]),
    config,
    images: new ImageChecker(config.registry),
  });
  // A warning (cy's :latest) or another field's error (dee's port) does not stop the check; an image error does.
  expect([...verdicts.keys()].sort()).toEqual([
    `${host}/good/app:v1`,
    `${host}/manifest-401/app:v1`,
    `${host}/rate-limit/app:latest`,
    `${host}/server-error/app:v1`,
  ]);
  expect(registry.requests.some((r) => r.includes('/eve/') || r.includes('not'))).toBe(false);

  const [week1, week2] = reports;
  const imageFindings = week1!.findings
    .filter((f) => /^image-(private|rate-limited|unreachable)$/.test(f.code))
    .map(({ code, severity, file, line, column, entryIndex }) => ({ code, severity, file, line, column, entryIndex }));
  // Entries are three lines after the five of the header; container_image is the third, its value at column 22.
  expect(imageFindings).toEqual([
    { code: 'image-private', severity: 'error', file: 'students/week-01.yaml', line: 11, column: 22, entryIndex: 1 },
    {
      code: 'image-rate-limited',
      severity: 'warning',
      file: 'students/week-01.yaml',
      line: 14,
      column: 22,
      entryIndex: 2,
    },
    {
      code: 'image-unreachable',
      severity: 'warning',
      file: 'students/week-01.yaml',
      line: 17,
      column: 22,
      entryIndex: 3,
    },
  ]);
  expect(week1!.findings.find((f) => f.code === 'image-private')!.message).toContain('manifest-401/app:v1');
  expect(week1!.findings.some((f) => f.entryIndex === 0)).toBe(false);

  expect(week2).toMatchObject({ file: 'students/week-02.yaml', complete: false });
});

test('without a checker nothing is asked and no verdict is a finding', async () => {
  const before = registry.requests.length;
  const { reports, verdicts } = await interpretRosters({
    files: new Map([
      ['students/week-01.yaml', Buffer.from(rosterText(entry('bo', `${registry.host}/manifest-401/a:v1`)))],
    ]),
    config: course(),
  });
  expect(verdicts).toEqual(new Map());
  expect(reports[0]!.findings).toEqual([]);
  expect(registry.requests.length).toBe(before);
});

test('the same bytes under the same name and policy are validated once; other names or policies are validated afresh', async () => {
  const config = course();
  const bytes = Buffer.from(rosterText(entry('Bo', `${registry.host}/other/a:v1`)));
  const reportOf = async (file: string, policy = config.policy) =>
    (await interpretRosters({ files: new Map([[file, bytes]]), config: { ...config, policy } })).reports[0]!;
  const first = await reportOf('students/week-01.yaml');
  expect(first.entries.map((e) => e.entry?.githubUsername)).toEqual(['Bo']);
  // A source hands out the same snapshot while nothing changed: the very report comes back.
  expect(await reportOf('students/week-01.yaml')).toBe(first);
  const renamed = await reportOf('students/week-02.yaml');
  expect(renamed.findings.map((f) => f.code)).toEqual(['week-mismatch']);
  const strict = await reportOf('students/week-02.yaml', { ...config.policy, imageOwnerMustMatchUsername: true });
  expect(strict.findings.map((f) => f.code)).toEqual(['week-mismatch', 'image-owner-mismatch']);
});
