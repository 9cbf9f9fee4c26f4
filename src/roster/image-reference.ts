/**
 * Image references, parsed with the grammar of distribution/reference (what docker,
 * containerd and skopeo accept), and normalised the way a container runtime does:
 * `nginx` is `docker.io/library/nginx:latest`.
 */
import { quote } from '../unsafe-characters.js';

export interface ImageReference {
  /** Registry host, with port when one was given; `docker.io` for Docker Hub. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `jlgore/app` or `library/nginx`. */
  readonly repository: string;
  /** The tag as written, or undefined when none was given. */
  readonly tag: string | undefined;
  /** `algorithm:hex` as written, or undefined. */
  readonly digest: string | undefined;
}

export type ParsedReference =
  { readonly ok: true; readonly reference: ImageReference } | { readonly ok: false; readonly problem: string };

export const DOCKER_HUB = 'docker.io';
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])`;
const DOMAIN_RE = new RegExp(`^${HOST}(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;

/** Whether the first path component names a registry rather than a Docker Hub user. */
function looksLikeRegistry(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.toLowerCase() !== component
  );
}

export function parseImageReference(input: string): ParsedReference {
  const fail = (problem: string): ParsedReference => ({ ok: false, problem });
  if (input.length === 0) return fail('the image reference is empty');
  if (/\s/.test(input)) return fail('an image reference cannot contain spaces or line breaks');
  if (input.includes('://'))
    return fail('an image reference has no scheme such as https://; write registry/owner/name:tag');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest))
      return fail(`${quote(digest)} is not a valid digest (expected sha256:<64 hex digits>)`);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) {
      return fail(
        tag === ''
          ? 'the tag after ":" is empty'
          : `${quote(tag)} is not a valid tag (letters, digits, "_", "." and "-", at most 128, not starting with "." or "-")`,
      );
    }
  }

  let registry = DOCKER_HUB;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash !== -1 && looksLikeRegistry(rest.slice(0, firstSlash))) {
    registry = rest.slice(0, firstSlash);
    path = rest.slice(firstSlash + 1);
    if (!DOMAIN_RE.test(registry)) return fail(`${quote(registry)} is not a valid registry host`);
    if (registry === 'index.docker.io') registry = DOCKER_HUB;
  }
  if (path === '') return fail('the image reference has no repository name');

  for (const component of path.split('/')) {
    if (component === '') return fail('the repository path has an empty component ("//" or a trailing "/")');
    if (component.toLowerCase() !== component) {
      return fail(`repository names must be lowercase (${quote(component)} has capitals)`);
    }
    if (!PATH_COMPONENT_RE.test(component)) {
      return fail(
        `${quote(component)} is not a valid repository name component (lowercase letters, digits, and single ".", "_", "__" or "-" between them)`,
      );
    }
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (registry.length + 1 + path.length > MAX_NAME_LENGTH)
    return fail(`the image name is longer than ${MAX_NAME_LENGTH} characters`);

  return { ok: true, reference: { registry, repository: path, tag, digest } };
}

/** The tag a runtime pulls when none is written (and no digest pins the image). */
export function effectiveTag(ref: ImageReference): string | undefined {
  return ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
}

/** Fully qualified form, e.g. `docker.io/library/nginx:latest` or `ghcr.io/a/b@sha256:...`. */
export function formatImageReference(ref: ImageReference): string {
  const tag = effectiveTag(ref);
  return `${ref.registry}/${ref.repository}${tag === undefined ? '' : `:${tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The same image pinned by digest: what the renderer deploys once a registry gave the digest. */
export function pinImageReference(ref: ImageReference, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`;
}
