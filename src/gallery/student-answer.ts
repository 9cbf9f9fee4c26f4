/**
 * What a student's `/student` may answer, and the status each outcome gets. Everything
 * here comes from a student's app: checked for shape, stripped of control and bidi
 * characters, and bounded before anything else keeps it.
 */

export type GalleryStatus =
  'live' | 'mismatch' | 'invalid' | 'error' | 'timeout' | 'unreachable' | 'pending' | 'not-deployed';

/** The checked answer: only the three fields the gallery shows, each bounded. */
export interface StudentAnswer {
  readonly name: string;
  readonly github_username: string;
  readonly container_tag: string;
}

const MAX_FIELD_CHARS = 200;
// C0/C1 controls and bidi overrides: invisible, and able to reorder what a visitor reads.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function bounded(text: string): string {
  const clean = text.replace(UNSAFE_CHARS, '');
  const chars = [...clean];
  return chars.length > MAX_FIELD_CHARS ? `${chars.slice(0, MAX_FIELD_CHARS - 1).join('')}…` : clean;
}

/** The answer when the body is a JSON object with string name, github_username and container_tag; else why not. */
export function checkAnswer(body: string): { answer: StudentAnswer } | { problem: string } {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    return { problem: 'the answer is not JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return { problem: 'the answer is not a JSON object' };
  const fields = data as Record<string, unknown>;
  const missing = ['name', 'github_username', 'container_tag'].filter((k) => typeof fields[k] !== 'string');
  if (missing.length > 0) return { problem: `the answer has no string ${missing.join(', ')}` };
  return {
    answer: {
      name: bounded(fields['name'] as string),
      github_username: bounded(fields['github_username'] as string),
      container_tag: bounded(fields['container_tag'] as string),
    },
  };
}

/** live when the app says it is the roster's login (GitHub logins are case-insensitive), else mismatch. */
export function answerStatus(
  answer: StudentAnswer,
  rosterLogin: string,
): { status: 'live' | 'mismatch'; reason?: string } {
  if (answer.github_username.toLowerCase() === rosterLogin.toLowerCase()) return { status: 'live' };
  return { status: 'mismatch', reason: `the app says it belongs to "${answer.github_username}", not "${rosterLogin}"` };
}

/** A message from the network or a student's server, cut to a size fit for a card. */
export function shortReason(text: string, max = 160): string {
  return bounded(text).slice(0, max);
}
