/**
 * One anonymous pull check, done the way a container runtime pulls: ping `/v2/`, follow
 * the auth challenge to an anonymous token, then ask for the manifest and read what
 * platforms it runs on. Every answer ends as exactly one Verdict.
 */
import { createHash } from 'node:crypto';
import { fetchAnonymousToken, parseChallenge, type TokenCache } from './auth.js';
import { RegistryHttpError, registryRequest, type HttpOptions, type HttpResponse } from './http.js';
import { DOCKER_HUB, type ImageReference } from '../roster/image-reference.js';
import { PAUSE_MS, type CheckOutcome } from './breaker.js';
import type { Verdict } from './verdict.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;
const ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerList, MEDIA_TYPES.dockerManifest].join(
  ', ',
);
const MAX_SMALL_BODY = 1 << 20;
/** The config types of an image a runtime runs; anything else (a Helm chart, an artifact) is not one. */
const IMAGE_CONFIG_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);

export interface CheckOptions {
  readonly requiredPlatform: string;
  readonly maxManifestBytes: number;
  readonly plainHttp: readonly string[];
  /**
   * The base URL each API host answered on (or the attempt in flight), so checks that run
   * at once share one HTTPS attempt and later checks do not try HTTPS on a plain host again.
   */
  readonly bases: Map<string, Promise<string>>;
  readonly http: HttpOptions;
  readonly tokens: TokenCache;
  /**
   * Per registry, its config-blob store: one that stops answering would make every single
   * image's check wait out the timeout for its platform, so after a few blobs in a row get
   * no answer it is not asked until the pause is over.
   */
  readonly blobStores: Map<string, { unanswered: number; pausedUntil: number }>;
  /** A clock that does not jump (performance.now), or a test's. */
  readonly now: () => number;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/;

/** The host of a registry's API: Docker Hub's is not at docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}

/**
 * Whether a registry may be spoken to in plain HTTP when it does not speak HTTPS, as
 * container runtimes treat insecure registries: loopback and `registry.plainHttp` only.
 */
export function plainHttpAllowed(host: string, plainHttp: readonly string[]): boolean {
  return LOOPBACK.test(host) || plainHttp.includes(host);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The longest wait a registry's Retry-After is taken at: the verdict is cached that long. */
const MAX_RETRY_AFTER_S = 3600;

function retryAfterSeconds(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  // undici keeps the spaces after a header's value.
  const value = header.trim();
  const date = Date.parse(value);
  const seconds = /^\d+$/.test(value)
    ? Number(value)
    : Number.isNaN(date)
      ? undefined
      : Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return seconds === undefined ? undefined : Math.min(seconds, MAX_RETRY_AFTER_S);
}

function errorCodes(body: Buffer): string[] {
  const data = parseJson(body);
  if (!isObject(data) || !Array.isArray(data['errors'])) return [];
  return data['errors'].flatMap((e) => (isObject(e) && typeof e['code'] === 'string' ? [e['code']] : []));
}

/** An os, architecture or variant as runtimes name them; anything else is the image author's noise. */
const PLATFORM_PART = /^[A-Za-z0-9_.-]{1,32}$/;
/** Platforms a verdict lists: the student reads them, and an index may name thousands. */
const MAX_LISTED_PLATFORMS = 16;

function platformOf(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  const { os, architecture, variant } = value;
  const part = (v: unknown) => typeof v === 'string' && PLATFORM_PART.test(v);
  // containerd reads a null or empty variant as none.
  const noVariant = variant === undefined || variant === null || variant === '';
  if (!part(os) || !part(architecture) || !(noVariant || part(variant))) return undefined;
  return `${os as string}/${architecture as string}${variant ? `/${variant as string}` : ''}`;
}

/** linux/arm64/v8 satisfies linux/arm64; linux/arm/v6 does not satisfy linux/arm/v7. */
function platformMatches(platform: string, required: string): boolean {
  return (
    platform === required ||
    (required.split('/').length === 2 && platform.split('/').slice(0, 2).join('/') === required)
  );
}

/** Config blobs in a row without an answer that pause a registry's blob store: one that hangs is not enough. */
const BLOBS_UNANSWERED_TO_PAUSE = 3;

/** A problem that ends the check: carries the verdict to return. */
class Stop extends Error {
  constructor(readonly verdict: Verdict) {
    super(verdict.kind);
  }
}

function transientFor(response: HttpResponse, what: string): Verdict {
  if (response.status === 429)
    return { kind: 'rate-limited', retryAfterSeconds: retryAfterSeconds(response.headers['retry-after']) };
  return { kind: 'unreachable', reason: `${what} answered HTTP ${response.status}` };
}

/** The tags OCI allows: a registry's answer may hold anything, and these reach terminals and comments. */
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** One check, and whether the registry gave no answer at all (for the breaker). */
export async function checkImageOnce(ref: ImageReference, options: CheckOptions): Promise<CheckOutcome> {
  try {
    return { verdict: await check(ref, options), unanswered: false };
  } catch (error) {
    if (error instanceof Stop) return { verdict: error.verdict, unanswered: false };
    if (!(error instanceof RegistryHttpError)) throw error;
    const verdict: Verdict = { kind: 'unreachable', reason: error.message };
    return error.unanswered ? { verdict, unanswered: true, failure: error } : { verdict, unanswered: false };
  }
}

/** Whether a ping answer is a registry's (an open or an auth-asking one). */
const answersAsRegistry = (response: HttpResponse) => response.status === 200 || response.status === 401;

/**
 * `GET /v2/` over HTTPS first. Only a loopback or `registry.plainHttp` host that turns out
 * not to speak TLS is asked again in plain HTTP; a certificate that is not trusted, or any
 * other host, never downgrades.
 */
async function findBase(host: string, options: CheckOptions): Promise<{ base: string; response: HttpResponse }> {
  const https = `https://${host}`;
  try {
    return { base: https, response: await registryRequest(`${https}/v2/`, {}, MAX_SMALL_BODY, options.http) };
  } catch (error) {
    if (!(error instanceof RegistryHttpError && error.notTls && plainHttpAllowed(host, options.plainHttp))) throw error;
  }
  const http = `http://${host}`;
  return { base: http, response: await registryRequest(`${http}/v2/`, {}, MAX_SMALL_BODY, options.http) };
}

/**
 * The ping of a check. The first check of a host finds its base URL, and checks that start
 * meanwhile share that attempt (and its failure) rather than each trying HTTPS at once; later
 * checks ping the base found. A host that stops answering as a registry is looked at afresh.
 */
async function pingRegistry(
  registry: string,
  options: CheckOptions,
): Promise<{ base: string; response: HttpResponse }> {
  const host = registryApiHost(registry);
  let known = options.bases.get(host);
  let result: { base: string; response: HttpResponse };
  try {
    if (known === undefined) {
      const finding = findBase(host, options);
      known = finding.then((r) => r.base);
      known.catch(() => undefined); // failures are handled through `finding`
      options.bases.set(host, known);
      result = await finding;
    } else {
      const base = await known;
      result = { base, response: await registryRequest(`${base}/v2/`, {}, MAX_SMALL_BODY, options.http) };
    }
  } catch (error) {
    if (options.bases.get(host) === known) options.bases.delete(host);
    throw error;
  }
  if (!answersAsRegistry(result.response) && options.bases.get(host) === known) options.bases.delete(host);
  return result;
}

async function check(ref: ImageReference, options: CheckOptions): Promise<Verdict> {
  const { base, response: ping } = await pingRegistry(ref.registry, options);
  const headers: Record<string, string> = { accept: ACCEPT };

  if (ping.status === 401) {
    const challenge = parseChallenge(ping.headers['www-authenticate']);
    if (challenge?.scheme === 'basic')
      return { kind: 'private', detail: 'the registry requires a login for every pull' };
    if (challenge?.scheme !== 'bearer')
      return { kind: 'unreachable', reason: 'the registry asked for an authentication scheme classops does not know' };
    const token = await fetchAnonymousToken(challenge, ref.repository, options.tokens, options.http);
    if (!token.ok) {
      if (token.kind === 'refused')
        return { kind: 'private', detail: `the registry refused an anonymous pull token (HTTP ${token.status})` };
      if (token.kind === 'rate-limited')
        return { kind: 'rate-limited', retryAfterSeconds: retryAfterSeconds(token.retryAfter) };
      return { kind: 'unreachable', reason: token.reason };
    }
    headers['authorization'] = `Bearer ${token.token}`;
  } else if (ping.status !== 200) {
    return transientFor(ping, 'the registry');
  }

  const reference = ref.digest ?? ref.tag ?? 'latest';
  // GET straight away, no HEAD first: the GET follows anyway, and undici closes the
  // connection after every HEAD, so a HEAD cost a new connection (and TLS handshake) per check.
  const manifestUrl = `${base}/v2/${ref.repository}/manifests/${reference}`;
  const manifest = await registryRequest(manifestUrl, headers, options.maxManifestBytes, options.http);
  if (manifest.status === 401 || manifest.status === 403)
    return { kind: 'private', detail: `the registry refused the anonymous pull (HTTP ${manifest.status})` };
  if (manifest.status === 404) return notFound(base, ref, reference, headers, options, manifest);
  if (manifest.status !== 200) return transientFor(manifest, 'the registry');
  const digest = `sha256:${createHash('sha256').update(manifest.body).digest('hex')}`;
  const expected = ref.digest ?? manifest.headers['docker-content-digest'];
  if (expected !== undefined && expected.startsWith('sha256:') && expected !== digest) {
    return { kind: 'unreachable', reason: 'the manifest the registry sent does not match its digest' };
  }
  const data = parseJson(manifest.body);
  if (!isObject(data)) return { kind: 'unreachable', reason: 'the registry answered with a manifest that is not JSON' };
  const mediaType =
    (typeof data['mediaType'] === 'string' ? data['mediaType'] : undefined) ??
    manifest.headers['content-type']?.split(';')[0]?.trim() ??
    '';
  const all = await platformsOf(data, mediaType, base, ref, headers, options);
  // The config blob did not come: the image is pullable, on a platform nobody knows yet.
  if (all === undefined) return { kind: 'pullable', digest, mediaType, platforms: [], platformUnread: true };
  const platforms = [...new Set(all)].slice(0, MAX_LISTED_PLATFORMS);
  if (all.length > 0 && !all.some((p) => platformMatches(p, options.requiredPlatform))) {
    return { kind: 'platform-missing', required: options.requiredPlatform, platforms };
  }
  return { kind: 'pullable', digest, mediaType, platforms };
}

async function platformsOf(
  data: Json,
  mediaType: string,
  base: string,
  ref: ImageReference,
  headers: Record<string, string>,
  options: CheckOptions,
): Promise<string[] | undefined> {
  if (Array.isArray(data['manifests'])) {
    if (mediaType !== MEDIA_TYPES.ociIndex && mediaType !== MEDIA_TYPES.dockerList && mediaType !== '') {
      throw new Stop({ kind: 'unreachable', reason: `the registry sent a list of manifests as ${mediaType}` });
    }
    // buildx adds attestation manifests with the platform unknown/unknown: not something that runs.
    // An entry that names no platform may run anywhere; an index with nothing else runs nowhere.
    // containerd reads `"platform": null` as no platform named.
    const entries = data['manifests'].map((m) =>
      isObject(m) && m['platform'] !== undefined && m['platform'] !== null
        ? (platformOf(m['platform']) ?? 'unknown/')
        : undefined,
    );
    if (entries.every((p) => p?.startsWith('unknown/') === true))
      throw new Stop({ kind: 'platform-missing', required: options.requiredPlatform, platforms: [] });
    return entries.filter((p): p is string => p !== undefined && !p.startsWith('unknown/'));
  }
  const config = data['config'];
  if (!isObject(config) || typeof config['digest'] !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(config['digest'])) {
    throw new Stop({ kind: 'unreachable', reason: 'the registry answered with a manifest that has no valid config' });
  }
  const configType = config['mediaType'];
  if (typeof configType === 'string' && !IMAGE_CONFIG_TYPES.has(configType))
    throw new Stop({
      kind: 'platform-missing',
      required: options.requiredPlatform,
      platforms: [],
      artifact: configType.slice(0, 200),
    });
  // The platform of a single image is in its config blob; a store that fails here does not make the image unpullable.
  let store = options.blobStores.get(ref.registry);
  if (store === undefined) options.blobStores.set(ref.registry, (store = { unanswered: 0, pausedUntil: -Infinity }));
  if (store.pausedUntil > options.now()) return undefined;
  try {
    const auth: Record<string, string> =
      headers['authorization'] === undefined ? {} : { authorization: headers['authorization'] };
    // A config may be as large as a manifest: runtimes read any size.
    const blob = await registryRequest(
      `${base}/v2/${ref.repository}/blobs/${config['digest']}`,
      auth,
      options.maxManifestBytes,
      options.http,
    );
    store.unanswered = 0;
    // An error answer (5xx, a rate limit) says nothing of the image: not read, asked again next time.
    if (blob.status !== 200 && blob.status !== 404) return undefined;
    const platform = blob.status === 200 ? platformOf(parseJson(blob.body)) : undefined;
    return platform === undefined ? [] : [platform];
  } catch (error) {
    // registryRequest fails only with a RegistryHttpError. The check's own time is up: it did not finish.
    if (options.http.signal?.aborted === true || (error as RegistryHttpError).checkTimeUp) throw error;
    if (!(error as RegistryHttpError).unanswered) return []; // sent, but more than a config may be: not stated
    if (++store.unanswered >= BLOBS_UNANSWERED_TO_PAUSE) store.pausedUntil = options.now() + PAUSE_MS;
    return undefined;
  }
}

async function notFound(
  base: string,
  ref: ImageReference,
  reference: string,
  headers: Record<string, string>,
  options: CheckOptions,
  manifest: HttpResponse,
): Promise<Verdict> {
  const codes = errorCodes(manifest.body);
  if (codes.includes('NAME_UNKNOWN')) return { kind: 'repository-not-found' };
  const tags = await registryRequest(`${base}/v2/${ref.repository}/tags/list`, headers, MAX_SMALL_BODY, options.http);
  if (tags.status === 404 && !codes.includes('MANIFEST_UNKNOWN')) return { kind: 'repository-not-found' };
  if (tags.status === 404 && errorCodes(tags.body).includes('NAME_UNKNOWN')) return { kind: 'repository-not-found' };
  const list = parseJson(tags.body);
  const existing =
    tags.status === 200 && isObject(list) && (Array.isArray(list['tags']) || list['tags'] === null)
      ? ((list['tags'] as unknown[] | null) ?? [])
          .filter((t): t is string => typeof t === 'string' && OCI_TAG.test(t))
          .sort()
      : undefined;
  return { kind: 'tag-not-found', tag: reference, existingTags: existing };
}
