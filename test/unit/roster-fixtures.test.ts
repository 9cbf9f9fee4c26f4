import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateRoster } from '../../src/roster/validate.js';
import { defaultPolicy, FIXTURES, rosterText, validateFixture } from '../support/rosters.js';

type Expected = [line: number, severity: string, code: string, message?: RegExp];

/** What a PR author sees for each fixture: every finding, on its line, in these words. */
const CASES: Record<string, { complete: boolean; valid: number; of: number; findings: Expected[] }> = {
  'missing-optional': { complete: true, valid: 1, of: 1, findings: [] },
  'mixed-case-username': { complete: true, valid: 1, of: 1, findings: [] },
  'four-space-indent': { complete: true, valid: 2, of: 2, findings: [] },
  'comments-only': { complete: true, valid: 0, of: 0, findings: [] },
  bom: { complete: true, valid: 1, of: 1, findings: [[1, 'warning', 'file-bom', /byte-order mark/]] },
  'broken-indent-entry': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [9, 'error', 'yaml-indentation', /^This entry is indented 4 spaces; the entries above \(line 6\) use 2\.$/],
    ],
  },
  'broken-indent-field': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[7, 'error', 'yaml-indentation', /indented 5 spaces; the fields of this entry above \(line 6\) use 4/]],
  },
  'tab-indent': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[7, 'error', 'yaml-tab', /tab is used for indentation/]],
  },
  'missing-colon': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[7, 'error', 'yaml-missing-colon', /"github_username" is not followed by a colon/]],
  },
  'duplicate-key': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[9, 'error', 'yaml-duplicate-key', /"name" appears twice .*first on line 6/]],
  },
  'unclosed-quote': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[6, 'error', 'yaml-unclosed-quote', /never closed/]],
  },
  'multiple-documents': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[8, 'error', 'yaml-multiple-documents', /2 YAML documents/]],
  },
  'alias-bomb': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[1, 'error', 'yaml-alias-limit', /more than 100 times/]],
  },
  'invalid-utf8': { complete: false, valid: 0, of: 0, findings: [[6, 'error', 'file-encoding', /not valid UTF-8/]] },
  'empty-file': { complete: false, valid: 0, of: 0, findings: [[1, 'error', 'file-empty']] },
  'not-a-mapping': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[1, 'error', 'schema-type', /must be a mapping .* but it is a list/]],
  },
  'students-mapping': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[6, 'error', 'schema-type', /students must be a list of entries/]],
  },
  'bad-header': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [1, 'error', 'schema-value', /apiVersion must be an API group at version v1/],
      [2, 'error', 'schema-value', /kind must be "StudentSubmissions"/],
      [4, 'error', 'schema-value', /between 1 and 99/],
      [4, 'error', 'week-mismatch'],
      [6, 'warning', 'unknown-key', /"extra"/],
    ],
  },
  'wrong-types': {
    complete: false,
    valid: 0,
    of: 2,
    findings: [
      [4, 'error', 'schema-type', /metadata\.week must be a whole number, but it is text/],
      [6, 'error', 'schema-type', /name must be text, but it is a number/],
      [7, 'error', 'schema-type', /github_username must be text/],
      [8, 'error', 'schema-type', /container_image must be text, but it is a list/],
      [9, 'error', 'schema-type', /student_endpoint must be text/],
      [10, 'error', 'schema-type', /port must be a whole number, but it is text/],
      [11, 'error', 'schema-type', /Entry 2 must be a mapping/],
    ],
  },
  injection: {
    complete: true,
    valid: 0,
    of: 3,
    findings: [
      [9, 'error', 'endpoint-invalid', /not allowed in a URL path/],
      [10, 'error', 'endpoint-invalid', /not allowed in a URL path/],
      [11, 'error', 'name-invalid', /line break/],
      [12, 'error', 'username-invalid', /^"bo\\n- name: evil" is not a valid GitHub username/],
      [13, 'error', 'image-invalid', /"v1\$\(id\)" is not a valid tag/],
      [17, 'error', 'endpoint-invalid', /query/],
      [18, 'error', 'endpoint-invalid', /"\.\." segments/],
    ],
  },
  'username-invalid': {
    complete: true,
    valid: 0,
    of: 4,
    findings: [
      [7, 'error', 'username-invalid', /starts or ends with a hyphen/],
      [10, 'error', 'username-invalid', /starts with "@"/],
      [13, 'error', 'username-invalid', /40 characters long \(at most 39\)/],
      [16, 'error', 'username-invalid', /two hyphens in a row/],
    ],
  },
  'username-duplicate': {
    complete: true,
    valid: 1,
    of: 3,
    findings: [
      [7, 'error', 'username-duplicate', /"ann" has 2 entries in this file \(lines 7, 10\)/],
      [10, 'error', 'username-duplicate', /lines 7, 10/],
    ],
  },
  'image-invalid': {
    complete: true,
    valid: 0,
    of: 3,
    findings: [
      [8, 'error', 'image-invalid', /not a valid image reference/],
      [11, 'error', 'image-invalid', /no scheme such as https:\/\//],
      [14, 'error', 'image-invalid', /not a valid digest/],
    ],
  },
  'image-registry': {
    complete: true,
    valid: 0,
    of: 3,
    findings: [
      [8, 'error', 'image-registry-not-allowed', /Docker Hub/],
      [11, 'error', 'image-registry-not-allowed', /Docker Hub/],
      [14, 'error', 'image-registry-not-allowed', /quay\.io; this course accepts images from ghcr\.io only/],
    ],
  },
  'image-owner': {
    complete: true,
    valid: 0,
    of: 1,
    findings: [[8, 'error', 'image-owner-mismatch', /belongs to "jlgore", but this entry is for "ann"/]],
  },
  'image-docker-pull': {
    complete: true,
    valid: 0,
    of: 1,
    findings: [
      [
        8,
        'error',
        'image-invalid',
        /^"docker pull ghcr\.io\/ann\/container-course-student:v1" is a command, not an image reference\.$/,
      ],
    ],
  },
  'image-library': {
    complete: true,
    valid: 0,
    of: 1,
    findings: [
      [8, 'error', 'image-registry-not-allowed', /Docker Hub .*accepts images from ghcr\.io only/],
      [8, 'error', 'image-owner-mismatch', /belongs to "library", but this entry is for "testuser"/],
    ],
  },
  'image-uppercase': {
    complete: true,
    valid: 0,
    of: 1,
    findings: [[8, 'error', 'image-uppercase', /capital letters/]],
  },
  'image-no-tag': { complete: true, valid: 0, of: 1, findings: [[8, 'error', 'image-tag-missing', /no tag/]] },
  'image-latest': {
    complete: true,
    valid: 1,
    of: 1,
    findings: [[8, 'warning', 'image-tag-latest', /"latest" changes/]],
  },
  'endpoint-invalid': {
    complete: true,
    valid: 0,
    of: 2,
    findings: [
      [9, 'error', 'endpoint-invalid', /student_endpoint must be a path starting with "\/"\.$/],
      [10, 'error', 'endpoint-invalid', /not a full URL/],
      [14, 'error', 'endpoint-invalid', /not allowed in a URL path/],
      [15, 'error', 'endpoint-invalid', /261 characters long/],
    ],
  },
  'endpoint-dot-segments': {
    complete: true,
    valid: 1,
    of: 4,
    findings: [
      [
        9,
        'error',
        'endpoint-invalid',
        /^student_endpoint may not contain "\." or "\.\." segments, also when a dot is written as "%2e"\.$/,
      ],
      [10, 'error', 'endpoint-invalid', /^health_endpoint may not contain "\." or "\.\." segments/],
      [14, 'error', 'endpoint-invalid', /^student_endpoint may not contain "\." or "\.\." segments/],
      [15, 'error', 'endpoint-invalid', /^health_endpoint starts with "\/\/", which names another host/],
      [19, 'error', 'endpoint-invalid', /^student_endpoint may not contain "\." or "\.\." segments/],
      [20, 'error', 'endpoint-invalid', /^health_endpoint may not contain an encoded "\/" or "\\"/],
    ],
  },
  'control-characters': {
    complete: true,
    valid: 1,
    of: 6,
    findings: [
      [7, 'error', 'name-invalid', /^The name contains U\+0085, a control character, which is not allowed here\.$/],
      [10, 'error', 'name-invalid', /^The name contains U\+009B, a control character/],
      [13, 'error', 'name-invalid', /^The name contains U\+FFFE, a noncharacter/],
      [16, 'error', 'name-invalid', /^The name contains U\+D800, half of a character \(a lone surrogate\)/],
      [20, 'error', 'username-invalid', /^github_username contains U\+0080, a control character/],
      [21, 'error', 'image-invalid', /^container_image contains U\+009F, a control character/],
      [22, 'error', 'endpoint-invalid', /^student_endpoint contains U\+2028, a line separator/],
      [23, 'error', 'endpoint-invalid', /^health_endpoint contains U\+FDD0, a noncharacter/],
    ],
  },
  'metadata-control-character': {
    complete: false,
    valid: 1,
    of: 1,
    findings: [[5, 'error', 'schema-value', /^metadata\.semester contains U\+0085, a control character/]],
  },
  'no-final-newline': {
    complete: false,
    valid: 2,
    of: 2,
    findings: [
      [12, 'error', 'file-no-final-newline', /^The file does not end with a line break, as a file cut short would not/],
    ],
  },
  'yaml-tags': {
    complete: true,
    valid: 0,
    of: 3,
    findings: [
      [6, 'error', 'schema-type', /^name must be text, but it is binary data \(a `!!binary` value\)\.$/],
      [9, 'error', 'schema-type', /^name must be text, but it is a date \(a `!!timestamp` value\)\.$/],
      [12, 'error', 'schema-type', /^name must be text, but it is a set \(a `!!set` value\)\.$/],
    ],
  },
  'unknown-tag': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [
        9,
        'error',
        'yaml-unknown-tag',
        /^The tag "!evil" is not one YAML defines; other YAML readers may read this value otherwise\.$/,
      ],
    ],
  },
  'cr-line-endings': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [
        1,
        'error',
        'file-cr-line-endings',
        /^Lines in this file end with a carriage return alone \(CR, "\\r"\), as on classic Mac OS/,
      ],
    ],
  },
  'unicode-line-break': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [
        8,
        'error',
        'file-unicode-line-break',
        /^The file holds U\+2028, a line break to some YAML readers \(kubectl's among them\) and not to others/,
      ],
    ],
  },
  'yaml-directive': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [
        1,
        'error',
        'yaml-directive',
        /^The file starts with a "%YAML 1\.1" directive, which changes how its values read/,
      ],
    ],
  },
  'merge-key': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [[9, 'error', 'yaml-merge-key', /^"<<" merges another mapping into this one for some YAML readers/]],
  },
  'alias-key': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [9, 'error', 'yaml-complex-key', /^A key here is an alias \("\*key"\); keys in a roster are plain words/],
    ],
  },
  'collection-key': {
    complete: false,
    valid: 0,
    of: 0,
    findings: [
      [
        9,
        'error',
        'yaml-complex-key',
        /^A key here is a list or mapping \("\[port\]"\); keys in a roster are plain words, such as name or port\.$/,
      ],
    ],
  },
  'port-invalid': {
    complete: true,
    valid: 1,
    of: 8,
    findings: [
      [9, 'error', 'port-invalid', /Port 70000 is outside 1-65535/],
      [13, 'error', 'port-invalid', /Port 0 is outside/],
      [17, 'error', 'schema-type', /decimal number \(50\.5\)/],
      [
        21,
        'error',
        'port-invalid',
        /^The port is written "010"; YAML readers disagree on numbers not written in plain digits/,
      ],
      [25, 'error', 'port-invalid', /^The port is written "0o17"/],
      [29, 'error', 'port-invalid', /^The port is written "\\"010\\""/],
      [33, 'error', 'port-invalid', /^The port is written "5e3"/],
    ],
  },
  'name-invalid': {
    complete: true,
    valid: 0,
    of: 3,
    findings: [
      [6, 'error', 'name-invalid', /empty/],
      [9, 'error', 'name-invalid', /101 characters/],
      [12, 'error', 'name-invalid', /control character/],
    ],
  },
  'week-mismatch': {
    complete: false,
    valid: 1,
    of: 1,
    findings: [[4, 'error', 'week-mismatch', /metadata\.week is 2, but the file is named for week 1/]],
  },
  'namespace-invalid': {
    complete: false,
    valid: 1,
    of: 1,
    findings: [[5, 'error', 'namespace-invalid', /"Week_01" is not a valid Kubernetes namespace/]],
  },
  'unknown-key': {
    complete: true,
    valid: 0,
    of: 1,
    findings: [
      [5, 'warning', 'unknown-key', /"semster"/],
      [7, 'error', 'schema-required', /Entry 1 has no "github_username"/],
      [8, 'warning', 'unknown-key', /"github_user"/],
      [10, 'warning', 'unknown-key', /"prot"/],
    ],
  },
  'missing-required': {
    complete: true,
    valid: 0,
    of: 2,
    findings: [
      [6, 'error', 'schema-required', /Entry 1 has no "github_username"/],
      [8, 'error', 'schema-required', /Entry 2 has no "container_image"/],
      [8, 'error', 'schema-required', /Entry 2 has no "name"/],
    ],
  },
  secrets: {
    complete: false,
    valid: 2,
    of: 2,
    findings: [
      [9, 'error', 'secret-in-file', /GitHub token/],
      [13, 'error', 'secret-in-file', /AWS access key/],
      [14, 'error', 'secret-in-file', /private key/],
      [15, 'error', 'secret-in-file', /GitHub fine-grained token/],
    ],
  },
  'one-bad-among-good': { complete: true, valid: 2, of: 3, findings: [[12, 'error', 'port-invalid']] },
};

describe('every roster fixture gets the findings a PR author should read', () => {
  test('each fixture folder has a case here', () => {
    expect(readdirSync(FIXTURES).sort()).toEqual(Object.keys(CASES).sort());
  });

  test.each(Object.entries(CASES))('%s', (name, expected) => {
    const report = validateFixture(name);
    const got = report.findings.map((f) => [f.line, f.severity, f.code]);
    const want = expected.findings.map(([line, severity, code]) => [line, severity, code]);
    expect(got.sort()).toEqual(want.sort());
    for (const [line, , code, message] of expected.findings) {
      const finding = report.findings.find(
        (f) => f.line === line && f.code === code && (!message || message.test(f.message)),
      );
      expect(finding).toBeDefined();
      expect(finding!.file).toBe(`${name}/week-01.yaml`);
      expect(finding!.column).toBeGreaterThan(0);
      if (finding!.severity !== 'note') expect(finding!.hint ?? '').not.toBe('');
    }
    expect(report.complete).toBe(expected.complete);
    expect(report.entries.length).toBe(expected.of);
    expect(report.entries.filter((e) => e.entry !== undefined).length).toBe(expected.valid);
  });
});

describe('what the hints say', () => {
  const hintOf = (name: string, code: string) => validateFixture(name).findings.find((f) => f.code === code)?.hint;

  test('a misspelt key gets "did you mean"', () => {
    const report = validateFixture('unknown-key');
    expect(report.findings.find((f) => f.message.includes('github_user"'))?.hint).toBe(
      'Did you mean "github_username"?',
    );
    expect(report.findings.find((f) => f.message.includes('"prot"'))?.hint).toBe('Did you mean "port"?');
    expect(report.findings.find((f) => f.code === 'schema-required')?.hint).toBe(
      'It has "github_user" instead: rename it to "github_username".',
    );
  });
  test('a last line of only spaces is named as such', () => {
    const text = `${readFileSync(join(FIXTURES, 'missing-optional/week-01.yaml'), 'utf8')}    `;
    const finding = validateRoster('students/week-01.yaml', Buffer.from(text), defaultPolicy()).findings[0];
    expect(finding).toMatchObject({ code: 'file-no-final-newline', line: 9, column: 5 });
    expect(finding!.message).toContain('does not end with a line break (its last line holds only spaces)');
  });
  test('a CRLF file cut after a carriage return that YAML cannot read says it may be cut short too', () => {
    const crlf = Buffer.from(
      readFileSync(join(FIXTURES, 'missing-optional/week-01.yaml'), 'utf8').replace(/\n/g, '\r\n'),
    );
    const cut = crlf.subarray(0, crlf.indexOf('\r\n', crlf.indexOf('name:')) + 1);
    const codes = validateRoster('students/week-01.yaml', cut, defaultPolicy()).findings.map((f) => f.code);
    expect(codes).toContain('file-no-final-newline');
  });
  test("YAML's own tag on a value it does not fit is named as such, not as a tag YAML lacks", () => {
    const port = (value: string) =>
      validateRoster(
        'students/week-01.yaml',
        Buffer.from(
          rosterText(
            `  - name: Ann\n    github_username: ann\n    container_image: ghcr.io/ann/app:v1\n    port: ${value}\n`,
          ),
        ),
        defaultPolicy(),
      ).findings.map((f) => f.message);
    expect(port('!!float 8080')).toEqual([
      'The tag "!!float" does not fit the value after it; other YAML readers may read this value otherwise.',
    ]);
    expect(port('!!evil 8080')).toEqual([
      'The tag "!!evil" is not one YAML defines; other YAML readers may read this value otherwise.',
    ]);
  });
  test('a value YAML turned into binary data, a date or a set: remove the tag', () => {
    expect(hintOf('yaml-tags', 'schema-type')).toBe('Remove the tag that starts with "!!" and write text here.');
  });
  test('uppercase image names get their lowercase form', () => {
    expect(hintOf('image-uppercase', 'image-uppercase')).toBe(
      'Write it as container_image: "ghcr.io/otajon99/container-course:v1".',
    );
  });
  test("an image under another account gets the student's own path", () => {
    expect(hintOf('image-owner', 'image-owner-mismatch')).toContain('"ghcr.io/ann/container-course-student:v1"');
  });
  test('a pasted "docker pull" command gets the exact line without it', () => {
    expect(hintOf('image-docker-pull', 'image-invalid')).toBe(
      'Remove "docker pull " and keep only the image: container_image: "ghcr.io/ann/container-course-student:v1".',
    );
  });
  test('an image on a registry the course refuses gets one fix: the same line from both findings', () => {
    const hints = validateFixture('image-library').findings.map((f) => f.hint);
    expect(hints).toEqual([
      expect.stringContaining('container_image: "ghcr.io/testuser/nginx:alpine".'),
      expect.stringContaining('container_image: "ghcr.io/testuser/nginx:alpine".'),
    ]);
    expect(hints.join(' ')).not.toContain('docker.io');
  });
  test('an image without a tag on a refused registry, or under another account: every finding gives one line', () => {
    const hints = (image: string) =>
      validateRoster(
        'students/week-01.yaml',
        Buffer.from(
          `apiVersion: container-course.ziyotek.edu/v1\nkind: StudentSubmissions\nmetadata:\n  week: 1\nstudents:\n  - name: V\n    github_username: victim\n    container_image: ${image}\n`,
        ),
        defaultPolicy(),
      ).findings.map((f) => f.hint);
    for (const image of ['docker.io/victim/app', 'ghcr.io/someone/app', 'victim/app:latest']) {
      const all = hints(image);
      expect(all.length).toBeGreaterThan(1);
      for (const hint of all) expect(hint).toContain('container_image: "ghcr.io/victim/app:v1"');
    }
    expect(hints('ghcr.io/victim/app')).toEqual(['Add the tag you pushed, e.g. "ghcr.io/victim/app:v1".']);
  });
  test('an image on a refused registry keeps its path under the allowed registry', () => {
    expect(validateFixture('image-registry').findings.map((f) => f.hint)).toEqual([
      'Push your image to ghcr.io and write its full name: container_image: "ghcr.io/ann/app:v1".',
      'Push your image to ghcr.io and write its full name: container_image: "ghcr.io/bo/app:v1".',
      'Push your image to ghcr.io and write its full name: container_image: "ghcr.io/cy/app:v1".',
    ]);
  });
  test('a quoted number gets "without quotes"', () => {
    expect(hintOf('wrong-types', 'schema-type')).toBe('Write the number without quotes: week: 1.');
  });
  test('a full URL endpoint gets its path', () => {
    expect(validateFixture('endpoint-invalid').findings.map((f) => f.hint)).toContain('Keep only the path: "/health".');
  });
  test('a secret is never repeated in the finding', () => {
    for (const f of validateFixture('secrets').findings)
      expect(`${f.message} ${f.hint}`).not.toMatch(/ghp_|AKIA|github_pat_/);
  });
});

describe('entries that are valid carry their defaults', () => {
  test('missing optional fields default to /student, /health and 5000', () => {
    expect(validateFixture('missing-optional').entries[0]?.entry).toEqual({
      name: 'Ann',
      githubUsername: 'ann',
      containerImage: 'ghcr.io/ann/app:v1',
      studentEndpoint: '/student',
      healthEndpoint: '/health',
      port: 5000,
    });
  });
  test('an injection attempt in the name stays data', () => {
    const injection = validateFixture('injection');
    expect(injection.findings.some((f) => f.line === 6)).toBe(false);
  });
});

test('bytes over maxFileBytes (a base revision read from git) are refused before the YAML parser sees them', () => {
  const policy = defaultPolicy();
  const bytes = Buffer.from(`students:\n  - name: "${'x'.repeat(policy.limits.maxFileBytes)}"\n`);
  const report = validateRoster('week-01.yaml', bytes, policy);
  expect(report.complete).toBe(false);
  expect(report.findings.map((f) => [f.code, f.line, f.message])).toEqual([
    [
      'file-too-large',
      1,
      `The file is ${bytes.length} bytes; a roster may be at most ${policy.limits.maxFileBytes} bytes.`,
    ],
  ]);
});

describe('no input crashes the validator', () => {
  const sample = readFileSync(new URL('../../students/week-01.yaml', import.meta.url));

  test('the sample cut off at every byte gives findings or entries, never an exception', () => {
    for (let end = 0; end <= sample.length; end++) {
      const report = validateRoster('week-01.yaml', sample.subarray(0, end), defaultPolicy());
      for (const f of report.findings) {
        expect(f.line).toBeGreaterThanOrEqual(1);
        expect(f.message).not.toBe('');
      }
    }
  });

  test('every line indented one space more, or with its colon removed, gives an error on a line', () => {
    const lines = sample.toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (!/:/.test(line) || line.trimStart().startsWith('#')) return;
      for (const broken of [` ${line}`, line.replace(':', '')]) {
        const text = [...lines.slice(0, i), broken, ...lines.slice(i + 1)].join('\n');
        const report = validateRoster('week-01.yaml', Buffer.from(text), defaultPolicy());
        expect(report.findings.length).toBeGreaterThan(0);
      }
    });
  });
});
