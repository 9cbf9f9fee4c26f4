/** Names, labels and annotations every rendered object carries, in one place. */

export const MANAGED_BY = 'classops';
export const LABEL = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  student: 'classops.dev/student',
  week: 'classops.dev/week',
} as const;

export const ANNOTATION = {
  displayName: 'classops.dev/display-name',
  githubUsername: 'classops.dev/github-username',
  image: 'classops.dev/image',
  studentEndpoint: 'classops.dev/student-endpoint',
  healthEndpoint: 'classops.dev/health-endpoint',
  port: 'classops.dev/port',
  sourceRevision: 'classops.dev/source-revision',
  /** The roster file an object comes from: what a broken file protects. */
  sourceFile: 'classops.dev/source-file',
  entryHash: 'classops.dev/entry-hash',
  /** The entry as deployed (canonical JSON): what a restarted controller reads back as last-known-good. */
  entry: 'classops.dev/entry',
  /** Hash of the object as rendered, without the annotations that change on every revision. */
  specHash: 'classops.dev/spec-hash',
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(name: string): boolean {
  return name.length <= 63 && DNS_LABEL.test(name);
}

/** `Otajon99` → `student-otajon99`: GitHub logins are case-insensitive, Kubernetes names lowercase. */
export function studentObjectName(githubUsername: string): string {
  return `student-${githubUsername.toLowerCase()}`;
}

export function weekLabel(week: number): string {
  return String(week).padStart(2, '0');
}

const PLACEHOLDER = /\{(course|week)(?::0?(\d+))?\}/g;

/** Fills `{course}`, `{week}` and `{week:02}` in the configured namespace template. */
export function namespaceFromTemplate(template: string, course: string, week: number): string {
  return template.replace(PLACEHOLDER, (_, key: string, width: string | undefined) =>
    key === 'course' ? course : String(week).padStart(Number(width ?? 0), '0'),
  );
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The cluster's own namespaces are never a course's, whatever the config says. */
const usable = (ns: string) => isDnsLabel(ns) && !ns.startsWith('kube-') && ns !== 'default';

/** Namespaces an instructor listed in `render.allowedNamespaces`: exact names, or prefixes ending in `*`. */
export function listedNamespaces(allowed: readonly string[]): (ns: string) => boolean {
  return (ns) => usable(ns) && allowed.some((a) => (a.endsWith('*') ? ns.startsWith(a.slice(0, -1)) : ns === a));
}

/**
 * The course's namespaces: what the template gives for any week, and what
 * `render.allowedNamespaces` allows. classops reads, writes and prunes nothing outside
 * them, whatever a roster says.
 */
export function courseNamespaces(
  template: string,
  course: string,
  allowed: readonly string[],
): (ns: string) => boolean {
  const pattern = template
    .split(PLACEHOLDER)
    .map((part, i) =>
      i % 3 === 0 ? escapeRegExp(part) : i % 3 === 1 ? (part === 'course' ? escapeRegExp(course) : '\\d+') : '',
    )
    .join('');
  const fromTemplate = new RegExp(`^${pattern}$`);
  const listed = listedNamespaces(allowed);
  return (ns) => (usable(ns) && fromTemplate.test(ns)) || listed(ns);
}
