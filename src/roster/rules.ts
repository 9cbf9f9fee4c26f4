/**
 * The course's rules for one field of an entry, beyond what the schema's types say.
 * Each rule returns problems in a student's words; validate.ts places them on the line.
 * A field the schema rejects for its type never reaches a rule.
 */
import type { PolicyConfig } from '../config.js';
import { effectiveTag, parseImageReference, type ImageReference } from './image-reference.js';
import type { Severity } from './model.js';
import { quote, UNSAFE_CHAR, VARIATION_SELECTOR_RUN } from '../unsafe-characters.js';

export interface Problem {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly hint?: string;
}

const NONCHARACTER = /\p{Noncharacter_Code_Point}/u;
/** `U+2028`: how a finding names a character. */
export const codePoint = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** The first unsafe character of a value, in words ("U+0085, a control character"), or undefined. */
export function unsafeCharacter(value: string): string | undefined {
  const c = UNSAFE_CHAR.exec(value)?.[0];
  if (c === undefined) {
    const second = VARIATION_SELECTOR_RUN.exec(value)?.[1];
    return second && `${codePoint(second)}, a variation selector right after another, which carries hidden text`;
  }
  const n = c.codePointAt(0)!;
  const what =
    n <= 0x9f
      ? 'a control character'
      : n === 0x2028 || n === 0x2029
        ? 'a line separator'
        : n === 0xfeff
          ? 'an invisible byte-order mark'
          : n >= 0xd800 && n <= 0xdfff
            ? 'half of a character (a lone surrogate)'
            : n === 0x061c || (n >= 0x200b && n <= 0x200f) || (n >= 0x202a && n <= 0x2069)
              ? 'an invisible direction or zero-width mark'
              : NONCHARACTER.test(c)
                ? 'a noncharacter'
                : n >= 0xe0000
                  ? 'a tag character, which carries hidden text (the flags of England, Scotland and Wales are made of them)'
                  : 'a character that draws nothing';
  return `${codePoint(c)}, ${what}`;
}

const UNSAFE_HINT =
  'Retype the value by hand: such characters are invisible and usually come from text copied out of a PDF, a chat or a word processor.';

/** A finding for a field holding an unsafe character, or none. */
export function checkCharacters(code: string, field: string, value: string): Problem[] {
  const found = unsafeCharacter(value);
  return found === undefined
    ? []
    : [error(code, `${field} contains ${found}, which is not allowed here.`, UNSAFE_HINT)];
}

/** The same for fields whose own rule already explains line breaks and tabs in its words. */
function checkUnusualCharacters(code: string, field: string, value: string): Problem[] {
  return LINE_BREAK_OR_TAB.test(value) ? [] : checkCharacters(code, field, value);
}

const error = (code: string, message: string, hint?: string): Problem => ({
  code,
  severity: 'error',
  message,
  ...(hint ? { hint } : {}),
});

export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const LINE_BREAK_OR_TAB = /[\u0000-\u001f]/;
/** RFC 3986 path characters (pchar and "/"). */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function checkName(name: string): Problem[] {
  if (name.trim() === '')
    return [
      error(
        'name-invalid',
        'The name is empty.',
        'Write your name as the gallery should show it, e.g. name: "Ada Lovelace".',
      ),
    ];
  if (LINE_BREAK_OR_TAB.test(name)) {
    return [
      error(
        'name-invalid',
        'The name contains a line break, tab or other control character.',
        'Keep the name on one line, without tabs.',
      ),
    ];
  }
  const unsafe = checkCharacters('name-invalid', 'The name', name);
  if (unsafe.length > 0) return unsafe;
  if ([...name].length > 100)
    return [
      error(
        'name-invalid',
        `The name is ${[...name].length} characters long; at most 100 are allowed.`,
        'Shorten it to the name you go by.',
      ),
    ];
  return [];
}

/** `/students/week02/` holds week 2's apps: a login of that shape would route classmates' addresses to itself. */
const WEEK_SEGMENT = /^week\d+$/i;

export function checkGithubUsername(login: string): Problem[] {
  if (GITHUB_LOGIN.test(login) && WEEK_SEGMENT.test(login))
    return [
      error(
        'username-reserved',
        `${quote(login)} cannot be a login in this course: /students/${login.toLowerCase()}/ is where a week's apps live, so its route would answer for classmates' addresses.`,
        'Ask an instructor to add your app by hand, or use another GitHub account.',
      ),
    ];
  if (GITHUB_LOGIN.test(login)) return [];
  const unsafe = checkUnusualCharacters('username-invalid', 'github_username', login);
  if (unsafe.length > 0) return unsafe;
  const why =
    login.length === 0
      ? 'it is empty'
      : login.length > 39
        ? `it is ${login.length} characters long (at most 39)`
        : login.startsWith('@')
          ? 'it starts with "@"'
          : /^-|-$/.test(login)
            ? 'it starts or ends with a hyphen'
            : login.includes('--')
              ? 'it has two hyphens in a row'
              : 'it may hold only letters, digits and single hyphens';
  const hint = login.startsWith('@')
    ? `Write it without the "@": github_username: ${quote(login.slice(1))}.`
    : 'Copy your login from your GitHub profile URL: https://github.com/<login>.';
  return [error('username-invalid', `${quote(login)} is not a valid GitHub username: ${why}.`, hint)];
}

/** A command pasted from a package page in front of the reference, e.g. `docker pull `. */
const PASTED_COMMAND = /^\s*((?:docker|podman)\s+pull\s+)/;

/**
 * The reference a student should write: the same repository and tag under their own
 * account on `registry`. Docker Hub's `library/nginx` keeps only `nginx`.
 */
function ownReference(ref: ImageReference, registry: string, login: string): string {
  const rest = ref.repository.split('/').slice(1).join('/') || 'container-course-student';
  // A digest is the other account's image: the line names a tag, one the student pushes.
  return `${registry}/${login.toLowerCase()}/${rest}:${ref.tag === undefined || ref.tag === 'latest' ? 'v1' : ref.tag}`;
}

export function checkContainerImage(
  image: string,
  githubUsername: string | undefined,
  policy: PolicyConfig,
): Problem[] {
  const unsafe = checkUnusualCharacters('image-invalid', 'container_image', image);
  if (unsafe.length > 0) return unsafe;
  const parsed = parseImageReference(image);
  const pasted = PASTED_COMMAND.exec(image);
  if (!parsed.ok && pasted !== null) {
    const rest = image.slice(pasted[0].length).trim();
    if (parseImageReference(rest).ok) {
      // A valid reference is short and plain, so the corrected line can be shown whole.
      return [
        error(
          'image-invalid',
          `${quote(image)} is a command, not an image reference.`,
          `Remove ${quote(pasted[1]!.replace(/\s+/g, ' '))} and keep only the image: container_image: ${quote(rest, 1000)}.`,
        ),
      ];
    }
  }
  if (!parsed.ok) {
    if (/lowercase/.test(parsed.problem) && parseImageReference(image.toLowerCase()).ok) {
      return [
        error(
          'image-uppercase',
          'The image name has capital letters; registries accept only lowercase repository names (GHCR refuses to push or pull them).',
          `Write it as container_image: "${lowercaseRepository(image)}".`,
        ),
      ];
    }
    return [
      error(
        'image-invalid',
        `${quote(image)} is not a valid image reference: ${parsed.problem}.`,
        'Write it as registry/owner/name:tag, e.g. ghcr.io/<your-login>/container-course-student:v1.',
      ),
    ];
  }
  const ref = parsed.reference;
  const problems: Problem[] = [];
  const allowed = policy.allowedRegistries.map((r) => r.toLowerCase());
  const registryAllowed = allowed.includes(ref.registry.toLowerCase());
  // Only a valid login goes into a hint: anything else is hostile text.
  const login = githubUsername !== undefined && GITHUB_LOGIN.test(githubUsername) ? githubUsername : undefined;
  // One corrected reference for both the registry and the owner finding, so their fixes agree.
  const target = registryAllowed ? ref.registry : (allowed[0] ?? 'ghcr.io');
  const corrected = login === undefined ? undefined : ownReference(ref, target, login);
  if (!registryAllowed) {
    const written =
      image.includes('/') && ref.registry !== 'docker.io' ? ref.registry : 'Docker Hub (no registry written)';
    problems.push(
      error(
        'image-registry-not-allowed',
        `The image is on ${written}; this course accepts images from ${allowed.join(', ')} only.`,
        corrected === undefined
          ? `Push your image to ${target} and write its full name, e.g. ${target}/<your-login>/container-course-student:v1.`
          : `Push your image to ${target} and write its full name: container_image: "${corrected}".`,
      ),
    );
  }
  const owner = ref.repository.split('/')[0] ?? '';
  const ownerWrong = policy.imageOwnerMustMatchUsername && login !== undefined && owner !== login.toLowerCase();
  if (ownerWrong) {
    problems.push(
      error(
        'image-owner-mismatch',
        `The image belongs to ${quote(owner)}, but this entry is for ${quote(login)}; you must deploy an image from your own account.`,
        `Push the image under your account${registryAllowed ? '' : ` on ${target}`} and write container_image: "${corrected}".`,
      ),
    );
  }
  // Where the registry or owner is wrong, every finding's fix is that one corrected line.
  const oneLine = !registryAllowed || ownerWrong ? corrected : undefined;
  if (ref.tag === undefined && ref.digest === undefined) {
    problems.push(
      error(
        'image-tag-missing',
        'The image has no tag, so the cluster would pull whatever "latest" points to at that moment.',
        oneLine !== undefined
          ? `Add the tag you pushed: container_image: "${oneLine}".`
          : `Add the tag you pushed, e.g. ${quote(`${image}:v1`)}.`,
      ),
    );
  } else if (effectiveTag(ref) === 'latest' && ref.digest === undefined) {
    problems.push({
      code: 'image-tag-latest',
      severity: 'warning',
      message: 'The tag "latest" changes whenever you push, so what runs can change without a pull request.',
      hint:
        oneLine !== undefined
          ? `Tag each release, e.g. container_image: "${oneLine}", and update this line when you release.`
          : `Tag each release, e.g. "${image.replace(/:latest$/, ':v1')}", and update this line when you release.`,
    });
  }
  return problems;
}

/** The reference with its registry kept and the repository path lowercased. */
function lowercaseRepository(image: string): string {
  const firstSlash = image.indexOf('/');
  const host = firstSlash === -1 ? '' : image.slice(0, firstSlash);
  const isHost = host.includes('.') || host.includes(':') || host === 'localhost';
  const at = image.indexOf('@');
  const name = at === -1 ? image : image.slice(0, at);
  const lastColon = name.lastIndexOf(':');
  const tagStart = lastColon > name.lastIndexOf('/') ? lastColon : name.length;
  const repoStart = isHost ? firstSlash + 1 : 0;
  return image.slice(0, repoStart) + image.slice(repoStart, tagStart).toLowerCase() + image.slice(tagStart);
}

/** A "." or ".." segment, however its dots are written: servers and proxies decode %2e before resolving them. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/** An encoded "/" or "\\", which some servers decode into a segment separator. */
const ENCODED_SEPARATOR = /%2f|%5c/i;

export function checkEndpoint(field: string, path: string): Problem[] {
  const fix = `Write a path such as ${field === 'health_endpoint' ? '"/health"' : '"/student"'}.`;
  const unsafe = checkUnusualCharacters('endpoint-invalid', field, path);
  if (unsafe.length > 0) return unsafe;
  if (path.startsWith('//'))
    return [
      error(
        'endpoint-invalid',
        `${field} starts with "//", which names another host ("//host/path"), not a path on your app.`,
        `Start it with a single "/": ${quote(`/${path.replace(/^\/+/, '')}`)}.`,
      ),
    ];
  if (!path.startsWith('/')) {
    return [
      error(
        'endpoint-invalid',
        `${field} must be a path starting with "/"${/^https?:/.test(path) ? ', not a full URL' : ''}.`,
        /^https?:\/\/[^/]+(\/.*)?$/.test(path) ? `Keep only the path: "${new URL(path).pathname}".` : fix,
      ),
    ];
  }
  if (path.length > 256)
    return [error('endpoint-invalid', `${field} is ${path.length} characters long; at most 256 are allowed.`, fix)];
  if (/[?#]/.test(path))
    return [
      error(
        'endpoint-invalid',
        `${field} may not contain a query ("?") or fragment ("#").`,
        `Keep only the path: ${quote(path.split(/[?#]/)[0] ?? '/')}.`,
      ),
    ];
  if (path.split('/').some((s) => DOT_SEGMENT.test(s)))
    return [
      error(
        'endpoint-invalid',
        `${field} may not contain "." or ".." segments, also when a dot is written as "%2e".`,
        fix,
      ),
    ];
  if (ENCODED_SEPARATOR.test(path))
    return [
      error(
        'endpoint-invalid',
        `${field} may not contain an encoded "/" or "\\" ("%2F", "%5C"), which some servers read as a separator.`,
        fix,
      ),
    ];
  if (!PATH_CHARS.test(path))
    return [
      error(
        'endpoint-invalid',
        `${field} contains characters that are not allowed in a URL path (spaces, quotes, braces or control characters).`,
        fix,
      ),
    ];
  return [];
}

/** Read alike by every YAML reader; 010 is 10 to this parser and 8 to kubectl's, 5e3 is text to PyYAML. */
const PLAIN_DIGITS = /^(?:0|[1-9][0-9]*)$/;

/** A value as written, without its quotes (`!!int "010"` is written `"010"`). */
const unwrapped = (written: string) => written.replace(/^(["'])(.*)\1$/s, '$2');

/** The port as read, and as written in the roster when known. */
export function checkPort(port: number, written?: string): Problem[] {
  if (written !== undefined && !PLAIN_DIGITS.test(unwrapped(written)))
    return [
      error(
        'port-invalid',
        `The port is written ${quote(written)}; YAML readers disagree on numbers not written in plain digits (kubectl's reads 010 as 8).`,
        'Write the port in plain digits, e.g. port: 5000.',
      ),
    ];
  if (Number.isInteger(port) && port >= 1 && port <= 65535) return [];
  if (!Number.isInteger(port))
    return [error('port-invalid', `Port ${port} is not a whole number.`, 'Write the port as digits only, e.g. 5000.')];
  return [
    error(
      'port-invalid',
      `Port ${port} is outside 1-65535.`,
      'Write the port your app listens on inside the container, e.g. 5000 or 8080.',
    ),
  ];
}

export function checkNamespace(namespace: string): Problem[] {
  if (namespace.length <= 63 && DNS_LABEL.test(namespace)) return [];
  return [
    error(
      'namespace-invalid',
      `${quote(namespace)} is not a valid Kubernetes namespace name.`,
      'Use at most 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit, e.g. container-course-week01.',
    ),
  ];
}

/** `week-07.yaml` → 7. */
export function weekFromFileName(file: string): number | undefined {
  const match = /(?:^|[/\\])week-(\d{2})\.ya?ml$/.exec(file);
  return match ? Number(match[1]) : undefined;
}
