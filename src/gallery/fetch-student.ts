/**
 * One fetch of a student's `/student` with undici: a time limit over headers and body
 * together, a byte cap (the rest is never read), and no redirects followed.
 */
import { request, type Dispatcher } from 'undici';
import { quote } from '../unsafe-characters.js';
import { answerStatus, checkAnswer, shortReason, type GalleryStatus, type StudentAnswer } from './student-answer.js';

export interface FetchOptions {
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly dispatcher: Dispatcher;
}

export interface FetchOutcome {
  readonly status: Exclude<GalleryStatus, 'pending' | 'not-deployed'>;
  readonly reason: string | undefined;
  /** The answer when it had the right shape (live or mismatch). */
  readonly answer: StudentAnswer | undefined;
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);
/** Statuses that send the client elsewhere (300 and 304 do not: they are no answer here either). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

function failure(status: FetchOutcome['status'], reason: string): FetchOutcome {
  return { status, reason: shortReason(reason), answer: undefined };
}

/** Most answers are a few hundred bytes: the buffer starts at this, and doubles up to the cap. */
const FIRST_BUFFER_BYTES = 4096;

/** Answers that are not HTTP as it is spoken: the app answered, wrongly. */
const PROTOCOL_ERRORS = new Map([
  ['UND_ERR_HEADERS_OVERFLOW', 'its headers are too large'],
  ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'its body does not match its Content-Length'],
]);

/** What undici says, on a socket that worked, of an answer that is no answer to a GET. */
const NO_ANSWER = new Map([
  ['bad upgrade', 'it switches protocols (HTTP 101), which nothing asked for'],
  ['bad response', 'it is no answer to the request (a 100 Continue nothing asked for, or an answer out of turn)'],
]);

/** Why an error means the answer is not HTTP, or undefined when it is about something else. */
function protocolProblem(code: string | undefined, message: string | undefined): string | undefined {
  if (code === 'UND_ERR_SOCKET') return NO_ANSWER.get(message ?? '');
  // undici asserts what its parser let through (a status below 100): its words are not for a card.
  if (code === 'ERR_ASSERTION') return 'its status line is not one of HTTP';
  return code === undefined ? undefined : PROTOCOL_ERRORS.get(code);
}

function describeError(error: unknown, timeoutMs: number): FetchOutcome {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  if (e.name === 'HTTPParserError') return failure('invalid', `the answer is not valid HTTP: ${e.message ?? ''}`);
  const protocol = protocolProblem(code, e.message);
  if (protocol !== undefined) return failure('invalid', `the answer is not valid HTTP: ${protocol}`);
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || (code !== undefined && TIMEOUT_CODES.has(code)))
    return failure('timeout', `no complete answer within ${timeoutMs} ms`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return failure('unreachable', 'the host name does not resolve');
  if (code === 'ECONNREFUSED') return failure('unreachable', 'connection refused: nothing listens on the port');
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return failure('unreachable', `connection failed (${code})`);
  return failure('unreachable', e.message ?? String(error));
}

/** Fetches `url` and checks the answer against `login`, the roster's GitHub login. */
export async function fetchStudent(url: string, login: string, options: FetchOptions): Promise<FetchOutcome> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'GET',
      signal,
      dispatcher: options.dispatcher,
      headers: { accept: 'application/json', 'user-agent': 'classops-gallery' },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  } catch (error) {
    return describeError(error, options.timeoutMs);
  }
  const { statusCode, headers, body } = response;
  // Dropping a body undici still reads raises an abort error on it: expected, so not an unhandled one.
  body.on('error', () => undefined);
  const discard = () => body.destroy();
  if (REDIRECTS.has(statusCode)) {
    discard();
    // Quoted: the app's text, not classops' words.
    const location = typeof headers['location'] === 'string' ? quote(headers['location']) : 'nowhere';
    return failure('invalid', `HTTP ${statusCode}: redirects to ${location}; redirects are not followed`);
  }
  if (statusCode !== 200 && statusCode < 400) {
    discard();
    return failure('invalid', `HTTP ${statusCode} is no answer to show: /student answers 200 with a JSON body`);
  }
  if (statusCode >= 400) {
    discard();
    return failure('error', `HTTP ${statusCode}`);
  }
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
    discard();
    return failure('invalid', `the answer is larger than ${options.maxBodyBytes} bytes`);
  }
  // Copied into one buffer as it comes: an answer in one-byte chunks keeps no chunk alive.
  let received = Buffer.allocUnsafe(Math.min(options.maxBodyBytes, FIRST_BUFFER_BYTES));
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const needed = size + chunk.length;
      if (needed > options.maxBodyBytes) {
        discard();
        return failure('invalid', `the answer is larger than ${options.maxBodyBytes} bytes`);
      }
      if (needed > received.length) {
        const larger = Buffer.allocUnsafe(Math.min(options.maxBodyBytes, Math.max(needed, 2 * received.length)));
        received.copy(larger, 0, 0, size);
        received = larger;
      }
      size += chunk.copy(received, size);
    }
  } catch (error) {
    const described = describeError(error, options.timeoutMs);
    // Its status line and headers came: a body that stops short is a wrong answer, not no answer.
    if (described.status !== 'unreachable') return described;
    return failure('invalid', 'the answer is not valid HTTP: the connection closed before the whole body came');
  }
  const checked = checkAnswer(received.toString('utf8', 0, size));
  if ('problem' in checked) return failure('invalid', checked.problem);
  const verdict = answerStatus(checked.answer, login);
  return { status: verdict.status, reason: verdict.reason, answer: checked.answer };
}
