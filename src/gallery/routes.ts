/**
 * The gallery's HTTP routes, mounted by `classops gallery` and by `classops run`:
 * `/gallery` (HTML), its CSS and JS, and `/api/students` (JSON). A body is rendered and
 * compressed (brotli, gzip) once per snapshot version, not once per request, and served
 * from memory with a strong ETag and a few seconds of caching: a class of 200 refreshing
 * at once costs a few buffer writes.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type express from 'express';
import helmet from 'helmet';
import type { Snapshot } from './collector.js';
import { GALLERY_CSS, GALLERY_JS } from './page-assets.js';
import { renderGalleryPage, type PageOptions } from './page.js';
import { studentsJson } from './students-json.js';

export interface GalleryRoutesOptions {
  readonly title: string;
  readonly refreshSeconds: number;
  readonly appLink: (login: string) => string;
}

type Encoding = 'br' | 'gzip' | 'identity';

const MAX_AGE_SECONDS = 5;

/** One body in each encoding, each compressed on first use. */
class Body {
  private readonly encoded = new Map<Encoding, { bytes: Buffer; etag: string }>();
  constructor(
    private readonly identity: Buffer,
    readonly type: string,
  ) {}

  static of(text: string, type: string): Body {
    return new Body(Buffer.from(text, 'utf8'), type);
  }

  in(encoding: Encoding): { bytes: Buffer; etag: string } {
    let found = this.encoded.get(encoding);
    if (found === undefined) {
      const bytes =
        encoding === 'br'
          ? brotliCompressSync(this.identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } })
          : encoding === 'gzip'
            ? gzipSync(this.identity)
            : this.identity;
      // Strong ETags differ by encoding: the bytes do.
      const hash = createHash('sha256').update(this.identity).digest('base64url').slice(0, 27);
      found = { bytes, etag: `"${hash}${encoding === 'identity' ? '' : `-${encoding}`}"` };
      this.encoded.set(encoding, found);
    }
    return found;
  }
}

/** Renders lazily, once per snapshot version. */
function perVersion(render: (snapshot: Snapshot) => Body): (snapshot: Snapshot) => Body {
  let version = -1;
  let cached: Body | undefined;
  return (snapshot) => {
    if (cached === undefined || snapshot.version !== version) {
      cached = render(snapshot);
      version = snapshot.version;
    }
    return cached;
  };
}

/**
 * helmet's headers, computed once: with no per-request nonce they are the same for every
 * response, so running the middleware on each request would only repeat the work.
 */
function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => void (headers[name] = String(value)),
    removeHeader: (name: string) => void delete headers[name],
  };
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  })({} as IncomingMessage, recorder as unknown as ServerResponse, () => undefined);
  return headers;
}

/** The encoding to send: brotli, else gzip, else none, as the client's Accept-Encoding allows (q=0 refuses). */
export function chooseEncoding(header: string | undefined): Encoding {
  const allowed = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (q === undefined || Number(q) > 0) allowed.add(name.trim());
  }
  if (allowed.has('br')) return 'br';
  if (allowed.has('gzip')) return 'gzip';
  return 'identity';
}

/** If-None-Match names this ETag (or any: `*`); weak comparison, as for a GET. */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

export type GalleryHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The gallery's routes as a plain Node handler: true when it answered. It is the hot path
 * of a class refreshing at once, so it writes precomputed headers and a cached buffer
 * directly; `classops gallery` calls it before express, `classops run` through a router.
 */
export function galleryHandler(snapshot: () => Snapshot, options: GalleryRoutesOptions): GalleryHandler {
  const page: PageOptions = { ...options, base: '/gallery', apiPath: '/api/students' };
  const html = perVersion((s) => Body.of(renderGalleryPage(s, page), 'text/html; charset=utf-8'));
  const json = perVersion((s) =>
    Body.of(JSON.stringify(studentsJson(s, options.appLink)), 'application/json; charset=utf-8'),
  );
  const css = Body.of(GALLERY_CSS, 'text/css; charset=utf-8');
  const js = Body.of(GALLERY_JS, 'text/javascript; charset=utf-8');
  const routes = new Map<string, () => Body>([
    ['/gallery', () => html(snapshot())],
    ['/gallery/', () => html(snapshot())],
    ['/gallery/gallery.css', () => css],
    ['/gallery/gallery.js', () => js],
    ['/api/students', () => json(snapshot())],
  ]);
  const security = Object.entries(securityHeaders());

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const pick = routes.get(query === -1 ? url : url.slice(0, query));
    if (pick === undefined) return false;
    const body = pick();
    const encoding = chooseEncoding(req.headers['accept-encoding']);
    const { bytes, etag } = body.in(encoding);
    for (const [name, value] of security) res.setHeader(name, value);
    res.setHeader('Cache-Control', `public, max-age=${MAX_AGE_SECONDS}`);
    res.setHeader('ETag', etag);
    res.setHeader('Vary', 'Accept-Encoding');
    if (notModified(req.headers['if-none-match'], etag)) {
      res.writeHead(304).end();
      return true;
    }
    res.setHeader('Content-Type', body.type);
    if (encoding !== 'identity') res.setHeader('Content-Encoding', encoding);
    res.setHeader('Content-Length', bytes.length);
    res.writeHead(200).end(req.method === 'HEAD' ? undefined : bytes);
    return true;
  };
}

/** The same routes for an express app (the controller's port). */
export function galleryRouter(handler: GalleryHandler): express.RequestHandler {
  return (req, res, next) => {
    if (!handler(req, res)) next();
  };
}
