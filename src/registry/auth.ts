/**
 * The anonymous side of registry auth: read the `WWW-Authenticate` challenge, ask the
 * token service for a pull token without credentials (as GHCR allows for public
 * packages), and keep tokens until they expire.
 */
import { registryRequest, type HttpOptions } from './http.js';

export interface Challenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** `Bearer realm="…",service="…",scope="…"` → { scheme: 'bearer', params }. Quoted values may hold commas. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)/s.exec(header);
  if (match === null) return undefined;
  const params: Record<string, string> = {};
  const pattern = /([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*,?\s*/gy;
  // Group 2 always takes part (it may be empty); a parameter is never empty (its name has a letter),
  // and its value is group 2 when quoted, else group 3.
  const rest = match[2]!;
  let found: RegExpExecArray | null;
  while ((found = pattern.exec(rest)) !== null) {
    params[found[1]!.toLowerCase()] = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : found[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

export type TokenResult =
  | { readonly ok: true; readonly token: string }
  | { readonly ok: false; readonly kind: 'refused'; readonly status: number }
  | { readonly ok: false; readonly kind: 'rate-limited'; readonly retryAfter: string | undefined }
  | { readonly ok: false; readonly kind: 'broken'; readonly reason: string };

const DEFAULT_TOKEN_SECONDS = 60; // the distribution spec's default when expires_in is absent
const MAX_TOKEN_RESPONSE = 1 << 20;

export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The token for `key` while it is valid (an expired one is replaced by the next `set`). */
  get(key: string): string | undefined {
    const hit = this.tokens.get(key);
    return hit !== undefined && hit.expiresAt > this.now() ? hit.token : undefined;
  }

  set(key: string, token: string, seconds: number): void {
    // Renew ten seconds early, so a token never expires between check and use (one of 10 s or less is expired at once).
    this.tokens.set(key, { token, expiresAt: this.now() + (seconds - 10) * 1000 });
  }
}

/** An anonymous token for `repository:NAME:pull` from the challenge's realm. */
export async function fetchAnonymousToken(
  challenge: Challenge,
  repository: string,
  cache: TokenCache,
  http: HttpOptions,
): Promise<TokenResult> {
  const realm = challenge.params['realm'];
  if (realm === undefined || !/^https?:\/\//.test(realm))
    return { ok: false, kind: 'broken', reason: 'the registry sent a Bearer challenge without a usable realm' };
  const url = new URL(realm);
  if (challenge.params['service'] !== undefined) url.searchParams.set('service', challenge.params['service']);
  url.searchParams.set('scope', `repository:${repository}:pull`);
  const key = url.href;
  const cached = cache.get(key);
  if (cached !== undefined) return { ok: true, token: cached };

  const response = await registryRequest(url.href, { accept: 'application/json' }, MAX_TOKEN_RESPONSE, http);
  if (response.status === 401 || response.status === 403)
    return { ok: false, kind: 'refused', status: response.status };
  if (response.status === 429) return { ok: false, kind: 'rate-limited', retryAfter: response.headers['retry-after'] };
  if (response.status !== 200)
    return { ok: false, kind: 'broken', reason: `the token service answered HTTP ${response.status}` };
  let data: unknown;
  try {
    data = JSON.parse(response.body.toString('utf8'));
  } catch {
    return { ok: false, kind: 'broken', reason: 'the token service answered with something that is not JSON' };
  }
  // JSON that is not an object has no fields: reading one from a string, number or array gives undefined.
  const fields = (data ?? {}) as Record<string, unknown>;
  const token =
    typeof fields['token'] === 'string' && fields['token'] !== '' ? fields['token'] : fields['access_token'];
  if (typeof token !== 'string' || token === '')
    return { ok: false, kind: 'broken', reason: 'the token service answered without a token' };
  const seconds =
    typeof fields['expires_in'] === 'number' && fields['expires_in'] > 0 ? fields['expires_in'] : DEFAULT_TOKEN_SECONDS;
  cache.set(key, token, seconds);
  return { ok: true, token };
}
