/**
 * A loopback GitHub REST API for the endpoints classops calls, answering with the shapes
 * of GitHub's OpenAPI examples, rate-limit headers on every answer, ETags (304 on
 * If-None-Match), Link pagination, and faults on demand (403/429 with retry-after, 5xx,
 * a read-only token). Every request is recorded.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly body: unknown;
}

export interface GithubFault {
  readonly method?: string;
  /** Matches when the request path contains this. */
  readonly path?: string;
  readonly status: number;
  times: number;
  readonly retryAfter?: number;
  /** 403 with GitHub's secondary rate limit message. */
  readonly secondary?: boolean;
  /** Takes the request and never answers (status unused). */
  readonly hang?: boolean;
  /** Answers as usual, but sends half the body and never the rest (status unused). */
  readonly stallBody?: boolean;
  /** Answers as usual, but sends half the body and closes the connection (status unused). */
  readonly dropBody?: boolean;
}

interface Stored {
  id: number;
  [key: string]: unknown;
}

const USER = (login: string, type: 'User' | 'Bot', id: number) => ({
  login,
  id,
  node_id: `MDQ6VXNlcj${id}`,
  avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
  url: `https://api.github.com/users/${login}`,
  html_url: `https://github.com/${login}`,
  type,
  site_admin: false,
});

export class FakeGithub {
  private server: Server | undefined;
  port = 0;
  readonly requests: RecordedRequest[] = [];
  private readonly faults: GithubFault[] = [];
  /** Answers whose bodies stop halfway. */
  private readonly stalled = new WeakSet<ServerResponse>();
  /** Answers whose connections close halfway through the body. */
  private readonly dropped = new WeakSet<ServerResponse>();
  /**
   * Pull requests by number: what GET /pulls/:n answers. With `dir`, a real repository
   * holding both commits, its files and commits are git's, as GitHub lists them.
   */
  readonly pulls = new Map<
    number,
    {
      head: string;
      base: string;
      author: string;
      dir?: string;
      baseRef?: string;
      changedFiles?: unknown;
      /** From a branch of the course repository itself, not a fork. */
      sameRepo?: boolean;
    }
  >();
  /** Called with each request once it is recorded: a test's way to change things mid-run (a push lands). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  readonly comments = new Map<number, Stored[]>();
  readonly checkRuns: Array<Stored & { annotations: unknown[] }> = [];
  readonly statuses = new Map<string, Stored[]>();
  /** A fork's token: every write answers 403. */
  readOnly = false;
  /** Who the token belongs to, shown as the author of what it writes. */
  actor: ReturnType<typeof USER> = USER('github-actions[bot]', 'Bot', 41898282);
  private nextId = 1000;
  private remaining = 5000;

  constructor(readonly token: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  inject(fault: GithubFault): void {
    this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  /** A comment someone else wrote, as GitHub stores it. */
  addComment(issue: number, body: string, login = 'someone', type: 'User' | 'Bot' = 'User'): void {
    const list = this.comments.get(issue) ?? [];
    list.push(this.comment(issue, body, USER(login, type, 7)));
    this.comments.set(issue, list);
  }

  private comment(issue: number, body: string, user: unknown): Stored {
    const id = this.nextId++;
    const now = new Date().toISOString();
    return {
      id,
      node_id: `MDEyOklzc3VlQ29tbWVudDE${id}`,
      url: `${this.url}/repos/o/r/issues/comments/${id}`,
      html_url: `https://github.com/o/r/pull/${issue}#issuecomment-${id}`,
      issue_url: `${this.url}/repos/o/r/issues/${issue}`,
      body,
      user,
      created_at: now,
      updated_at: now,
      author_association: 'NONE',
    };
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-github-request-id': `FAKE:${this.requests.length}`,
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-used': String(5000 - this.remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      ...headers,
    });
    if (this.stalled.has(res) || this.dropped.has(res)) res.write(text.slice(0, text.length >> 1));
    else res.end(text);
    if (this.dropped.has(res)) setImmediate(() => res.socket?.destroy());
  }

  private error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
    this.send(
      res,
      status,
      { message, documentation_url: 'https://docs.github.com/rest', status: String(status) },
      headers,
    );
  }

  /** A list answer with an ETag and Link pagination. */
  private list(req: IncomingMessage, res: ServerResponse, url: URL, items: unknown[]): void {
    const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
    const page = Math.max(Number(url.searchParams.get('page') ?? 1), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const etag = `W/"${createHash('sha256').update(JSON.stringify(slice)).digest('hex').slice(0, 32)}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag, 'x-ratelimit-remaining': String(this.remaining) }).end();
      return;
    }
    const headers: Record<string, string> = { etag };
    if (page * perPage < items.length) {
      const next = new URL(url.toString());
      next.searchParams.set('page', String(page + 1));
      headers['link'] = `<${this.url}${next.pathname}${next.search}>; rel="next"`;
    }
    this.send(res, 200, slice, headers);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw === '' ? undefined : (JSON.parse(raw) as unknown);
    } catch {
      return this.error(res, 400, 'Problems parsing JSON');
    }
    const recorded = { method, path: url.pathname + url.search, authorization: req.headers.authorization, body };
    this.requests.push(recorded);
    this.onRequest?.(recorded);
    if (req.headers.authorization !== `token ${this.token}` && req.headers.authorization !== `bearer ${this.token}`)
      return this.error(res, 401, 'Bad credentials');
    this.remaining = Math.max(this.remaining - 1, 1);

    const fault = this.faults.find(
      (f) => f.times > 0 && (f.method ?? method) === method && url.pathname.includes(f.path ?? ''),
    );
    if (fault?.stallBody || fault?.dropBody) {
      fault.times -= 1;
      (fault.dropBody ? this.dropped : this.stalled).add(res);
    } else if (fault !== undefined) {
      fault.times -= 1;
      if (fault.hang) return;
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) };
      const message = fault.secondary
        ? 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'
        : fault.status >= 500
          ? 'Server Error'
          : 'API rate limit exceeded';
      return this.error(res, fault.status, message, headers);
    }
    if (this.readOnly && method !== 'GET') return this.error(res, 403, 'Resource not accessible by integration');

    let m: RegExpExecArray | null;
    const p = url.pathname;
    const b = (body ?? {}) as Record<string, unknown>;
    if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(p))) {
      const issue = Number(m[1]);
      if (method === 'GET') return this.list(req, res, url, this.comments.get(issue) ?? []);
      if (method === 'POST') {
        if (typeof b['body'] !== 'string') return this.error(res, 422, 'Validation Failed');
        if (b['body'].length > 65536) return this.error(res, 422, 'Body is too long (maximum is 65536 characters)');
        const comment = this.comment(issue, b['body'], this.actor);
        this.comments.set(issue, [...(this.comments.get(issue) ?? []), comment]);
        return this.send(res, 201, comment);
      }
    }
    // An app's or Actions' installation token may not read /user; a personal token reads its user.
    if (p === '/user' && method === 'GET') {
      if (this.actor.type === 'Bot') return this.error(res, 403, 'Resource not accessible by integration');
      return this.send(res, 200, this.actor);
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(p)) && method === 'DELETE') {
      const list = [...this.comments.values()].find((l) => l.some((c) => c.id === Number(m![1])));
      if (list === undefined) return this.error(res, 404, 'Not Found');
      list.splice(
        list.findIndex((c) => c.id === Number(m![1])),
        1,
      );
      res.writeHead(204).end();
      return;
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(p)) && method === 'PATCH') {
      const comment = [...this.comments.values()].flat().find((c) => c.id === Number(m![1]));
      if (comment === undefined) return this.error(res, 404, 'Not Found');
      if (typeof b['body'] !== 'string') return this.error(res, 422, 'Validation Failed');
      comment['body'] = b['body'];
      comment['updated_at'] = new Date().toISOString();
      return this.send(res, 200, comment);
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/(files|commits)$/.exec(p)) && method === 'GET') {
      const pr = this.pulls.get(Number(m[1]));
      if (pr === undefined) return this.error(res, 404, 'Not Found');
      return this.list(req, res, url, m[2] === 'files' ? pullFiles(pr) : pullCommits(pr));
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)$/.exec(p)) && method === 'GET') {
      const pr = this.pulls.get(Number(m[1]));
      if (pr === undefined) return this.error(res, 404, 'Not Found');
      return this.send(res, 200, {
        number: Number(m[1]),
        state: 'open',
        user: USER(pr.author, 'User', 9),
        head: { ref: 'feature', sha: pr.head, repo: { full_name: pr.sameRepo ? 'course/roster' : 'student/roster' } },
        base: { ref: pr.baseRef ?? 'main', sha: pr.base, repo: { full_name: 'course/roster' } },
        commits: pr.dir === undefined ? 0 : revList(pr).length,
        changed_files: 'changedFiles' in pr ? pr.changedFiles : pr.dir === undefined ? 0 : diffNames(pr).length,
      });
    }
    if (/^\/repos\/[^/]+\/[^/]+\/check-runs$/.test(p) && method === 'POST') {
      const annotations = (b['output'] as { annotations?: unknown[] } | undefined)?.annotations ?? [];
      if (annotations.length > 50) return this.error(res, 422, 'Only 50 annotations are allowed per request');
      if (typeof b['head_sha'] !== 'string' || b['name'] === undefined)
        return this.error(res, 422, 'Validation Failed');
      const run = { id: this.nextId++, ...b, annotations: [...annotations] };
      this.checkRuns.push(run);
      return this.send(res, 201, {
        id: run.id,
        head_sha: b['head_sha'],
        name: b['name'],
        status: b['status'],
        conclusion: b['conclusion'],
        output: { title: (b['output'] as Record<string, unknown>)['title'], annotations_count: annotations.length },
      });
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/check-runs\/(\d+)$/.exec(p)) && method === 'PATCH') {
      const run = this.checkRuns.find((r) => r.id === Number(m![1]));
      if (run === undefined) return this.error(res, 404, 'Not Found');
      const annotations = (b['output'] as { annotations?: unknown[] } | undefined)?.annotations ?? [];
      if (annotations.length > 50) return this.error(res, 422, 'Only 50 annotations are allowed per request');
      run.annotations.push(...annotations);
      return this.send(res, 200, { id: run.id, output: { annotations_count: run.annotations.length } });
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/commits\/([^/]+)\/statuses$/.exec(p)) && method === 'GET') {
      // Newest first, as GitHub lists them.
      return this.list(req, res, url, [...(this.statuses.get(m[1]!) ?? [])].reverse());
    }
    if ((m = /^\/repos\/[^/]+\/[^/]+\/statuses\/([0-9a-f]{40})$/.exec(p)) && method === 'POST') {
      if (!['success', 'failure', 'error', 'pending'].includes(String(b['state'])))
        return this.error(res, 422, 'Validation Failed');
      if (typeof b['description'] === 'string' && b['description'].length > 140)
        return this.error(res, 422, 'description is too long (maximum is 140 characters)');
      const now = new Date().toISOString();
      const status = {
        id: this.nextId++,
        state: b['state'],
        description: b['description'] ?? null,
        target_url: b['target_url'] ?? null,
        context: b['context'] ?? 'default',
        creator: this.actor,
        created_at: now,
        updated_at: now,
      };
      this.statuses.set(m[1]!, [...(this.statuses.get(m[1]!) ?? []), status]);
      return this.send(res, 201, status);
    }
    this.error(res, 404, 'Not Found');
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => this.error(res, 500, String(error)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

type PullRequestCommits = { head: string; base: string; dir?: string };
const git = (dir: string, ...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });

/** What GitHub diffs for a pull request: from the merge base to the head, renames found. */
function diffNames(pr: PullRequestCommits): Array<{ status: string; filename: string; previous?: string }> {
  if (pr.dir === undefined) return [];
  const fields = git(pr.dir, 'diff', '--name-status', '-z', '-M', `${pr.base}...${pr.head}`).split('\0');
  const changes = [];
  for (let i = 0; i + 1 < fields.length;) {
    const status = fields[i++]!;
    if (status.startsWith('R') || status.startsWith('C'))
      changes.push({ status, previous: fields[i++]!, filename: fields[i++]! });
    else changes.push({ status, filename: fields[i++]! });
  }
  return changes;
}

const STATUS: Record<string, string> = { A: 'added', D: 'removed', M: 'modified', R: 'renamed', C: 'copied' };

/** GET /pulls/:n/files: GitHub lists at most 3 000 files, whatever the pull request changes. */
function pullFiles(pr: PullRequestCommits): unknown[] {
  return diffNames(pr)
    .slice(0, 3000)
    .map((c) => ({
      sha: createHash('sha1').update(c.filename).digest('hex'),
      filename: c.filename,
      status: STATUS[c.status[0]!] ?? 'changed',
      additions: 1,
      deletions: 0,
      changes: 1,
      blob_url: `https://github.com/o/r/blob/${pr.head}/${c.filename}`,
      raw_url: `https://github.com/o/r/raw/${pr.head}/${c.filename}`,
      contents_url: `https://api.github.com/repos/o/r/contents/${c.filename}?ref=${pr.head}`,
      ...(c.previous === undefined ? {} : { previous_filename: c.previous }),
    }));
}

function revList(pr: PullRequestCommits): string[] {
  return pr.dir === undefined
    ? []
    : git(pr.dir, 'rev-list', '--reverse', `${pr.base}..${pr.head}`).split('\n').filter(Boolean);
}

/** GET /pulls/:n/commits: oldest first, at most 250, as GitHub lists them. */
function pullCommits(pr: PullRequestCommits): unknown[] {
  return revList(pr)
    .slice(0, 250)
    .map((sha) => ({
      sha,
      node_id: `C_${sha.slice(0, 12)}`,
      commit: { message: git(pr.dir!, 'log', '-1', '--format=%s', sha).trim() },
      parents: [],
    }));
}
