/**
 * Registry requests over undici with the limits a controller needs: a time limit on each
 * request, a cap on every body read, and redirects followed by hand (at most 3, never
 * from HTTPS down to plain HTTP).
 */
import type { Dispatcher } from 'undici';
import type { Connections } from '../connections.js';

export const MAX_REDIRECTS = 3;
/** A whole check (ping, token, manifest, config, redirects) takes at most this many registry.timeout. */
export const CHECK_TIMEOUTS = 3;

export interface HttpOptions {
  readonly timeoutMs: number;
  readonly dispatcher?: Dispatcher;
  /** Ends every request at once (shutdown). */
  readonly signal?: AbortSignal;
  /** When (performance.now) the check's last request may start: it may take CHECK_TIMEOUTS timeouts in all. */
  readonly startBy?: number;
  /** The checker's pool, used when no dispatcher is given. */
  readonly pool?: RegistryPool;
}

/**
 * A checker's connections, with a cap per registry: the checks that may run at once.
 * Without one, undici opens a new connection whenever the last one has not yet reported
 * itself free, which happens between the requests of one check; with it, the request waits
 * that instant and reuses the connection. Opened by the first request (undici is loaded
 * then, so commands that never check an image never load it); closed at shutdown.
 */
export class RegistryPool {
  private opened: Promise<Connections> | undefined;
  private closed = false;

  constructor(
    private readonly perRegistry: number,
    /** Connecting (TCP and TLS) is bounded by registry.timeout too: undici's own 10 s ignores the request's signal. */
    private readonly connectTimeoutMs: number,
  ) {}

  async dispatcher(): Promise<Dispatcher> {
    this.opened ??= import('../connections.js').then((m) =>
      m.openConnections({ connections: this.perRegistry }, this.connectTimeoutMs),
    );
    const connections = await this.opened;
    if (this.closed) await connections.close(); // a request after close() fails at once
    return connections.dispatcher;
  }

  /** Ends every request and connection, those still connecting too: for shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    await (await this.opened)?.close();
  }
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The URL that answered, after redirects. */
  readonly url: string;
}

/** A request that got no usable HTTP answer: DNS, TLS, connection, time-out, oversized or redirect trouble. */
export class RegistryHttpError extends Error {
  /** No HTTP answer came at all (time-out, refused, DNS, TLS, a dropped socket): the registry may be down. */
  readonly unanswered: boolean;
  /** An HTTPS request reached a server that does not speak TLS (it answered in plain HTTP, or hung up in the handshake). */
  readonly notTls: boolean;
  /** Not sent: the check had no whole timeout left for it. */
  readonly checkTimeUp: boolean;

  constructor(
    message: string,
    how: { readonly unanswered?: boolean; readonly notTls?: boolean; readonly checkTimeUp?: boolean } = {},
  ) {
    super(message);
    this.unanswered = how.unanswered ?? false;
    this.notTls = how.notTls ?? false;
    this.checkTimeUp = how.checkTimeUp ?? false;
  }
}

/** Whether a redirect from `from` to `to` may be followed: never from HTTPS to plain HTTP. */
export function redirectAllowed(from: URL, to: URL): boolean {
  if (to.protocol !== 'https:' && to.protocol !== 'http:') return false;
  return !(from.protocol === 'https:' && to.protocol === 'http:');
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
  declared: string | undefined,
): Promise<Buffer> {
  if (Number(declared) > maxBytes) {
    // Nothing reads this body any more: undici's 'error' on destroying it would be an uncaught exception.
    body.on('error', () => undefined).destroy();
    throw new RegistryHttpError(`the response is ${declared} bytes, over the limit of ${maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new RegistryHttpError(`the response is over the limit of ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

type NetworkError = { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };

/**
 * Whether an HTTPS request failed because the server does not speak TLS: OpenSSL reads its
 * plain HTTP answer as a bad record, or the server closes the socket on our ClientHello.
 * A certificate the client does not trust is not this: that server does speak TLS. (Only a
 * TLS socket fails these ways, so a plain HTTP request never does.)
 */
function serverSpeaksNoTls(error: unknown): boolean {
  const e = error as NetworkError;
  const code = e.code ?? e.cause?.code;
  return (
    code === 'ERR_SSL_WRONG_VERSION_NUMBER' ||
    code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' ||
    (code === 'ECONNRESET' &&
      String(e.message ?? e.cause?.message).includes('before secure TLS connection was established'))
  );
}

function networkError(error: unknown, url: URL): RegistryHttpError {
  return new RegistryHttpError(describeNetworkError(error, url), {
    unanswered: true,
    notTls: serverSpeaksNoTls(error),
  });
}

function describeNetworkError(error: unknown, url: URL): string {
  const e = error as NetworkError;
  const code = e.code ?? e.cause?.code;
  // The signal times out the whole request, headers and body; undici's own connect timeout (10 s) can come first.
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `${url.host} did not answer in time`;
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the name ${url.hostname} could not be resolved`;
  if (code === 'ECONNREFUSED') return `${url.host} refused the connection`;
  if (serverSpeaksNoTls(error)) return `${url.host} does not speak HTTPS`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `${url.host} closed the connection`;
  if (code !== undefined && /CERT|SSL|TLS|UNABLE_TO_/.test(code)) return `TLS with ${url.host} failed (${code})`;
  return `${url.host}: ${e.message ?? String(error)}`;
}

/** A GET (the only method a check needs: undici drops the connection after a HEAD). */
export async function registryRequest(
  target: string,
  headers: Record<string, string>,
  maxBytes: number,
  options: HttpOptions,
): Promise<HttpResponse> {
  // undici is loaded by the first request, so commands that never check an image never load it.
  const { request } = await import('undici');
  const dispatcher = options.dispatcher ?? (await options.pool?.dispatcher());
  let url = new URL(target);
  let currentHeaders = headers;
  for (let hop = 0; ; hop++) {
    // A request starts only with a whole timeout left to the check: so only its own timeout ever ends it.
    if (options.startBy !== undefined && performance.now() > options.startBy)
      throw new RegistryHttpError(
        `${new URL(target).host} answered too slowly: the check would take longer than ${CHECK_TIMEOUTS} times registry.timeout`,
        { checkTimeUp: true },
      );
    // Ended from outside (classops is stopping): no sign the registry is down.
    const cutOff = (error: unknown) =>
      options.signal?.aborted === true
        ? new RegistryHttpError(`${url.host} did not answer in time`)
        : networkError(error, url);
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        headers: currentHeaders,
        signal: options.signal
          ? AbortSignal.any([AbortSignal.timeout(options.timeoutMs), options.signal])
          : AbortSignal.timeout(options.timeoutMs),
        ...(dispatcher ? { dispatcher } : {}),
      });
    } catch (error) {
      throw cutOff(error);
    }
    const responseHeaders = flattenHeaders(response.headers);
    const location = responseHeaders['location'];
    if ([301, 302, 303, 307, 308].includes(response.statusCode) && location !== undefined) {
      await response.body.dump().catch(() => undefined);
      if (hop >= MAX_REDIRECTS)
        throw new RegistryHttpError(`more than ${MAX_REDIRECTS} redirects from ${new URL(target).host}`);
      const next = new URL(location, url);
      if (!redirectAllowed(url, next))
        throw new RegistryHttpError(
          `refused a redirect from ${url.protocol}//${url.host} to ${next.protocol}//${next.host}`,
        );
      // Credentials are for the registry, never for wherever it redirects (blob storage, another host).
      if (next.host !== url.host) {
        const { authorization: _dropped, ...rest } = currentHeaders;
        currentHeaders = rest;
      }
      url = next;
      continue;
    }
    try {
      const body = await readCapped(response.body, maxBytes, responseHeaders['content-length']);
      return { status: response.statusCode, headers: responseHeaders, body, url: url.href };
    } catch (error) {
      if (error instanceof RegistryHttpError) throw error;
      throw cutOff(error);
    }
  }
}
