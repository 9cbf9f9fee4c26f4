/**
 * Credentials written into a repository URL (https://user:TOKEN@host/…): kept out of
 * everything classops shows (logs, /metrics, /api/status, error messages) and out of
 * git's arguments, which any process on the machine can read.
 */

/** scheme://, then the userinfo up to the last "@" before the host. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i;
const USERINFO_ANYWHERE = /\b([a-z][a-z0-9+.-]*:\/\/)([^/?#\s'"]*)@/gi;
const HTTP = /^https?:\/\//i;

/**
 * A password with a "/", "?" or "#" not percent-encoded ends the host early: what looks
 * like `user:pass` is then a host with a port that is no number, and an "@" follows later.
 */
const UNENCODED = String.raw`([a-z][a-z0-9+.-]*:\/\/)[^/?#@\s'"]*:[^/?#@\s'"]*[^0-9/?#@:\s'"][^/?#@\s'"]*[/?#][^@\s'"]*@`;
const UNENCODED_USERINFO = new RegExp(`^${UNENCODED}`, 'i');
const UNENCODED_ANYWHERE = new RegExp(`\\b${UNENCODED}`, 'gi');

/** Whether the URL's credentials hold a "/", "?" or "#" that should have been percent-encoded. */
export function hasUnencodedCredentials(url: string): boolean {
  return !USERINFO.test(url) && UNENCODED_USERINFO.test(url);
}

/** What may be shown of a userinfo: nothing over HTTP(S), where a token can be the user name; the user otherwise (ssh://git@host). */
function shownUserinfo(scheme: string, userinfo: string): string {
  if (HTTP.test(scheme)) return '***';
  const colon = userinfo.indexOf(':');
  return colon === -1 ? userinfo : `${userinfo.slice(0, colon)}:***`;
}

/** The URL as it may be shown: `https://***@host/org/repo.git`. Anything that is not a URL is returned as is. */
export function redactUrl(url: string): string {
  // Misplaced credentials show nothing up to their "@": which part was the password cannot be told.
  if (hasUnencodedCredentials(url)) return url.replace(UNENCODED_USERINFO, (_, scheme: string) => `${scheme}***@`);
  return url.replace(USERINFO, (_, scheme: string, userinfo: string) => `${scheme}${shownUserinfo(scheme, userinfo)}@`);
}

/** Text (git's stderr, an error message) with the credentials of every URL in it redacted. */
export function redactUrls(text: string): string {
  return text
    .replace(UNENCODED_ANYWHERE, (_, scheme: string) => `${scheme}***@`)
    .replace(
      USERINFO_ANYWHERE,
      (_, scheme: string, userinfo: string) => `${scheme}${shownUserinfo(scheme, userinfo)}@`,
    );
}

const decode = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

export interface UrlCredentials {
  /** The URL to hand to git: without credentials over HTTP(S), unchanged otherwise. */
  readonly url: string;
  /** `user:password` for HTTP Basic, when the URL held credentials. */
  readonly basic: string | undefined;
}

/** Takes the credentials out of an HTTP(S) URL, so they can go to git through its environment instead. */
export function splitCredentials(url: string): UrlCredentials {
  const match = USERINFO.exec(url);
  if (match === null || !HTTP.test(url)) return { url, basic: undefined };
  const [whole, scheme, userinfo] = match as unknown as [string, string, string];
  const colon = userinfo.indexOf(':');
  const user = decode(colon === -1 ? userinfo : userinfo.slice(0, colon));
  const password = colon === -1 ? '' : decode(userinfo.slice(colon + 1));
  return { url: scheme + url.slice(whole.length), basic: `${user}:${password}` };
}
