/**
 * POST /webhooks/github: a signed push to the watched branch that touches the roster
 * folder asks the controller for a reconcile. The webhook only triggers; the git source
 * still fetches the repository itself, so a forged payload can never change what deploys.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { Logger } from '../observability/log.js';
import { quote } from '../unsafe-characters.js';

/** GitHub caps payloads at 25 MB, but a push is far smaller; anything bigger is refused unread. */
export const MAX_WEBHOOK_BYTES = 3 * 1024 * 1024;
/** Bodies read at once, at most: each may be MAX_WEBHOOK_BYTES, and GitHub sends a few a minute. */
const MAX_READING = 8;
/** GitHub gives up on a delivery after 10 s: a body still coming after that is not GitHub's. */
const BODY_TIMEOUT_MS = 10_000;
/**
 * With every slot taken, a new delivery takes the slot of the body coming slowest, if that
 * one comes slower than this. GitHub sends a push with its headers, at once; a forged
 * signature with a trickled body, or headers alone, holds a slot only until the next
 * delivery. To keep GitHub out, a sender must keep 8 bodies coming at this rate each.
 */
const MIN_BYTES_PER_SECOND = 64 * 1024;
/** How long a delivery id is remembered, and how many at most (GitHub redelivers within hours, not days). */
const REPLAY_WINDOW_MS = 60 * 60 * 1000;
const MAX_REMEMBERED = 50_000;
/** Other repositories whose ignored pushes are logged, at most: the first of each is enough. */
const MAX_WARNED_REPOSITORIES = 1000;
/** Events named in the metric; anything else is counted as `other`, so a sender cannot grow its label set. */
const KNOWN_EVENTS = new Set(['ping', 'push', 'pull_request', 'workflow_run', 'check_run', 'status', 'create']);

export interface WebhookOptions {
  /** The secret, and the previous one while rotating. */
  readonly secrets: readonly string[];
  /** Branch the git source follows. */
  readonly branch: string;
  /** The roster folder inside the repository. */
  readonly path: string;
  /** The course repository (owner/name); pushes to any other are ignored. Empty: any repository. */
  readonly repository?: string;
  /** Called after the answer is sent, once per accepted push. */
  readonly onPush: () => void;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now?: () => number;
  /** How long a body may take to arrive (tests shorten it). */
  readonly bodyTimeoutMs?: number;
}

type Result =
  'accepted' | 'ignored' | 'duplicate' | 'unauthorized' | 'too-large' | 'invalid' | 'busy' | 'timeout' | 'slow';

class TooLarge extends Error {}
class TimedOut extends Error {}
class Evicted extends Error {}

/** A body being read: how long, and how much has come. */
interface Reading {
  readonly req: Request;
  readonly since: number;
  bytes: number;
}

/**
 * How long a body is taken to have come at MIN_BYTES_PER_SECOND before its bytes say
 * otherwise: a delivery whose body a proxy passes on just after its headers is not the one
 * dropped for a sender whose requests each bring a byte, until it has had time to come.
 */
const BENEFIT_OF_DOUBT_MS = 1_000;

/**
 * The body to drop for a new delivery: one slower than MIN_BYTES_PER_SECOND, and of those
 * the slowest counting the benefit of the doubt, so the oldest of equals.
 */
function slowest(readings: ReadonlySet<Reading>, at: number): Reading | undefined {
  const elapsed = (r: Reading) => Math.max(1, at - r.since);
  // Of two bodies with the same bytes the older has the lower rate, so it goes first.
  const rateWithDoubt = (r: Reading) =>
    (r.bytes * 1000 + MIN_BYTES_PER_SECOND * BENEFIT_OF_DOUBT_MS) / (elapsed(r) + BENEFIT_OF_DOUBT_MS);
  let found: Reading | undefined;
  for (const r of readings) {
    if ((r.bytes * 1000) / elapsed(r) >= MIN_BYTES_PER_SECOND) continue;
    if (found === undefined || rateWithDoubt(r) < rateWithDoubt(found)) found = r;
  }
  return found;
}

async function readBody(reading: Reading, timeoutMs: number): Promise<Buffer> {
  const { req } = reading;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_WEBHOOK_BYTES) throw new TooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => req.destroy(new TimedOut()), timeoutMs);
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      reading.bytes = size;
      if (size > MAX_WEBHOOK_BYTES) throw new TooLarge();
      chunks.push(chunk);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** GitHub sends application/json when the webhook is set up so; its default form encoding is refused. */
const isJson = (type: string | undefined) => /^application\/json\s*(;|$)/i.test(type ?? '');

interface PushPayload {
  readonly ref?: unknown;
  readonly deleted?: unknown;
  readonly forced?: unknown;
  readonly commits?: unknown;
  readonly repository?: { readonly full_name?: unknown } | null;
}

/**
 * The repository a push is to, when it is not the course's: one secret may sign an
 * organization's webhook, which sends every repository's pushes. GitHub names are case-insensitive.
 */
export function otherRepository(payload: PushPayload, repository: string | undefined): string | undefined {
  const name = payload.repository?.full_name;
  if (!repository || typeof name !== 'string' || name.toLowerCase() === repository.toLowerCase()) return undefined;
  return name;
}

/** Whether the push can have changed the roster folder. Unknown file lists count as a change. */
export function pushTouches(payload: PushPayload, branch: string, path: string): boolean {
  if (payload.ref !== `refs/heads/${branch}` || payload.deleted === true) return false;
  // A force-push can take roster changes away, which no pushed commit lists.
  if (payload.forced === true) return true;
  if (!Array.isArray(payload.commits) || payload.commits.length === 0 || payload.commits.length >= 2048) return true;
  const folder = path.replace(/^\.?\/+|\/+$/g, '');
  const inFolder = (file: unknown) =>
    typeof file === 'string' && (folder === '' || folder === '.' || file === folder || file.startsWith(`${folder}/`));
  return payload.commits.some((commit: unknown) => {
    if (typeof commit !== 'object' || commit === null) return true;
    const c = commit as Record<string, unknown>;
    return ['added', 'modified', 'removed'].some((k) => {
      const files = c[k];
      return Array.isArray(files) && files.some(inFolder);
    });
  });
}

export async function webhookHandler(options: WebhookOptions): Promise<RequestHandler> {
  const { Webhooks } = await import('@octokit/webhooks');
  const verifiers = options.secrets.filter((s) => s !== '').map((secret) => new Webhooks({ secret }));
  if (verifiers.length === 0) throw new Error('a webhook needs a secret');
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  const readings = new Set<Reading>();
  /** Other repositories already named in the log: an organization's webhook sends all their pushes. */
  const warnedOf = new Set<string>();

  const remember = (id: string): boolean => {
    const t = now();
    for (const [key, expires] of seen) {
      if (expires > t && seen.size < MAX_REMEMBERED) break;
      seen.delete(key);
    }
    if ((seen.get(id) ?? 0) > t) return false;
    seen.set(id, t + REPLAY_WINDOW_MS);
    return true;
  };

  return (req: Request, res: Response) => {
    const header = req.headers['x-github-event'];
    const event = typeof header === 'string' && KNOWN_EVENTS.has(header) ? header : 'other';
    const answer = (status: number, result: Result, message: string) => {
      options.metrics.webhookDeliveries.inc({ event, result });
      res.status(status).type('text/plain').send(`${message}\n`);
    };
    // Refused before a byte of the body is read: unsigned or unreadable bodies are never buffered.
    const refuse = (status: number, result: Result, message: string) => {
      answer(status, result, message);
      req.resume();
    };
    const signature = req.headers['x-hub-signature-256'];
    if (typeof signature !== 'string' || !signature.startsWith('sha256='))
      return refuse(401, 'unauthorized', 'missing or wrong X-Hub-Signature-256');
    if (!isJson(req.headers['content-type']))
      return refuse(
        415,
        'invalid',
        'the payload is not application/json: set "Content type" to application/json in the webhook\'s settings',
      );
    if (readings.size >= MAX_READING) {
      const victim = slowest(readings, performance.now());
      if (victim === undefined) return refuse(503, 'busy', 'too many deliveries at once; the next poll catches up');
      readings.delete(victim);
      victim.req.destroy(new Evicted());
    }
    const reading: Reading = { req, since: performance.now(), bytes: 0 };
    readings.add(reading);
    void (async () => {
      let body: Buffer;
      try {
        body = await readBody(reading, options.bodyTimeoutMs ?? BODY_TIMEOUT_MS);
      } catch (error) {
        if (error instanceof TooLarge)
          return refuse(413, 'too-large', `payload larger than ${MAX_WEBHOOK_BYTES} bytes`);
        // A body that did not arrive in time: its connection is closed, nothing can be answered.
        if (error instanceof TimedOut) return options.metrics.webhookDeliveries.inc({ event, result: 'timeout' });
        if (error instanceof Evicted) return options.metrics.webhookDeliveries.inc({ event, result: 'slow' });
        return answer(400, 'invalid', 'could not read the payload');
      } finally {
        readings.delete(reading);
      }
      const text = body.toString('utf8');
      let valid = false;
      for (const verifier of verifiers) {
        if (await verifier.verify(text, signature).catch(() => false)) {
          valid = true;
          break;
        }
      }
      if (!valid) return answer(401, 'unauthorized', 'missing or wrong X-Hub-Signature-256');
      const delivery = req.headers['x-github-delivery'];
      if (typeof delivery === 'string' && delivery !== '' && !remember(delivery.slice(0, 100)))
        return answer(200, 'duplicate', 'delivery already received');
      if (event === 'ping') return answer(200, 'accepted', 'pong');
      if (event !== 'push') return answer(202, 'ignored', `event ${event} ignored`);
      let payload: PushPayload;
      try {
        payload = JSON.parse(text) as PushPayload;
      } catch {
        return answer(400, 'invalid', 'the payload is not JSON');
      }
      if (typeof payload !== 'object' || payload === null)
        return answer(400, 'invalid', 'the payload is not an object');
      const other = otherRepository(payload, options.repository);
      if (other !== undefined) {
        const text = `push to ${quote(other, 200)}, not ${options.repository}`;
        // Renamed or moved, the course repository's pushes would all land here: say so where
        // instructors look, once per repository (and for a bounded number of them).
        if (!warnedOf.has(other.toLowerCase()) && warnedOf.size < MAX_WARNED_REPOSITORIES) {
          warnedOf.add(other.toLowerCase());
          options.log.warn(
            `webhook ${text} (github.repository): ignored, as its later pushes will be; if the course repository was renamed or moved, set github.repository`,
          );
        }
        return answer(202, 'ignored', text);
      }
      if (!pushTouches(payload, options.branch, options.path))
        return answer(202, 'ignored', `push does not touch ${options.path} on ${options.branch}`);
      answer(202, 'accepted', 'reconcile queued');
      // After the answer: GitHub waits 10 s at most and only needs to know we have it.
      res.once('finish', () => {
        options.log.info('webhook push: reconcile queued', { delivery: typeof delivery === 'string' ? delivery : '' });
        options.onPush();
      });
    })();
  };
}
