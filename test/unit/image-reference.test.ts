import { formatImageReference, parseImageReference, pinImageReference } from '../../src/roster/image-reference.js';

const ok = (input: string) => {
  const parsed = parseImageReference(input);
  if (!parsed.ok) throw new Error(`expected ${input} to parse: ${parsed.problem}`);
  return parsed.reference;
};
const problem = (input: string) => {
  const parsed = parseImageReference(input);
  if (parsed.ok) throw new Error(`expected ${input} to be rejected`);
  return parsed.problem;
};
const digest = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  test.each([
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27', 'docker.io/library/nginx:1.27'],
    ['jlgore/app', 'docker.io/jlgore/app:latest'],
    ['index.docker.io/jlgore/app:v1', 'docker.io/jlgore/app:v1'],
    ['ghcr.io/jlgore/container-course-student:latest', 'ghcr.io/jlgore/container-course-student:latest'],
    ['localhost:5000/a/b/c:v1', 'localhost:5000/a/b/c:v1'],
    ['127.0.0.1:5000/team/app_x__y.z-w:1.0', '127.0.0.1:5000/team/app_x__y.z-w:1.0'],
    [`ghcr.io/a/b@${digest}`, `ghcr.io/a/b@${digest}`],
    [`ghcr.io/a/b:v1@${digest}`, `ghcr.io/a/b:v1@${digest}`],
    ['[::1]:5000/a/b:v1', '[::1]:5000/a/b:v1'],
  ])('%s normalises to %s', (input, expected) => {
    expect(formatImageReference(ok(input))).toBe(expected);
  });

  test('splits registry, repository, tag and digest', () => {
    expect(ok(`registry.example.edu:8443/course/team/app:v2@${digest}`)).toEqual({
      registry: 'registry.example.edu:8443',
      repository: 'course/team/app',
      tag: 'v2',
      digest,
    });
  });

  test('pins by digest, dropping the tag', () => {
    expect(pinImageReference(ok('ghcr.io/a/b:v1'), digest)).toBe(`ghcr.io/a/b@${digest}`);
  });

  test.each([
    ['', /empty/],
    ['ghcr.io/a/b c:v1', /spaces/],
    ['https://ghcr.io/a/b:v1', /scheme/],
    ['ghcr.io/Jlgore/app:v1', /lowercase \("Jlgore" has capitals\)/],
    ['ghcr.io/a/b:', /tag after ":" is empty/],
    ['ghcr.io/a/b:-x', /not a valid tag/],
    [`ghcr.io/a/b:${'t'.repeat(129)}`, /not a valid tag/],
    ['ghcr.io/a/b@sha256:1234', /not a valid digest/],
    ['ghcr.io/a//b:v1', /empty component/],
    ['ghcr.io/a/b-:v1', /not a valid repository name component/],
    ['ghcr.io/a/b..c:v1', /not a valid repository name component/],
    ['-bad.io/a:v1', /not a valid registry host/],
    [`ghcr.io/${'a'.repeat(250)}/b:v1`, /longer than 255/],
  ])('rejects %j', (input, why) => {
    expect(problem(input)).toMatch(why);
  });
});

test('a problem shows at most 80 characters of what the student wrote: a 100 000-character tag is not echoed whole', () => {
  expect(problem(`ghcr.io/bob/app:${'v'.repeat(100_000)}`)).toBe(
    `"${'v'.repeat(80)}…" is not a valid tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`,
  );
  expect(problem(`ghcr.io/bob/${'A'.repeat(5000)}:v1`)).toMatch(
    /^repository names must be lowercase \("A{80}…" has capitals\)$/,
  );
});
