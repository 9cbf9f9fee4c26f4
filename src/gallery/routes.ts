/**
 * The gallery's HTTP routes, mounted by `classops gallery` and by `classops run`:
 * `/gallery` (HTML), its CSS and JS, and `/api/students` (JSON). Bodies are rendered
 * once per snapshot version and served from memory with a strong ETag, compressed, and
 * cacheable for a few seconds, so a class refreshing at once costs little.
 */
import { createHash } from 'node:crypto';
import compression from 'compression';
import express from 'express';
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

interface Body {
  readonly bytes: Buffer;
  readonly etag: string;
}

const MAX_AGE_SECONDS = 5;

function body(text: string): Body {
  const bytes = Buffer.from(text, 'utf8');
  return { bytes, etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"` };
}

/** Renders lazily, once per snapshot version. */
function perVersion(render: (snapshot: Snapshot) => string): (snapshot: Snapshot) => Body {
  let version = -1;
  let cached: Body | undefined;
  return (snapshot) => {
    if (cached === undefined || snapshot.version !== version) {
      cached = body(render(snapshot));
      version = snapshot.version;
    }
    return cached;
  };
}

export function galleryRouter(snapshot: () => Snapshot, options: GalleryRoutesOptions): express.Router {
  const page: PageOptions = { ...options, base: '/gallery', apiPath: '/api/students' };
  const html = perVersion((s) => renderGalleryPage(s, page));
  const json = perVersion((s) => JSON.stringify(studentsJson(s, options.appLink)));
  const css = body(GALLERY_CSS);
  const js = body(GALLERY_JS);

  const security = helmet({
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
    // Same-origin only: nothing here is meant to be embedded elsewhere.
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  const send = (type: string, pick: () => Body): express.RequestHandler => {
    return (_req, res) => {
      const { bytes, etag } = pick();
      res.set({ 'Cache-Control': `public, max-age=${MAX_AGE_SECONDS}`, ETag: etag });
      res.type(type).send(bytes); // express answers 304 when If-None-Match matches the ETag
    };
  };

  const router = express.Router();
  const common = [security, compression()];
  router.get(
    '/gallery',
    ...common,
    send('text/html; charset=utf-8', () => html(snapshot())),
  );
  router.get(
    '/gallery/gallery.css',
    ...common,
    send('text/css; charset=utf-8', () => css),
  );
  router.get(
    '/gallery/gallery.js',
    ...common,
    send('text/javascript; charset=utf-8', () => js),
  );
  router.get(
    '/api/students',
    ...common,
    send('application/json; charset=utf-8', () => json(snapshot())),
  );
  return router;
}
