/**
 * What a student's `/student` may answer, and the status each outcome gets. Everything
 * here comes from a student's app: checked for shape, stripped of the characters the
 * roster refuses (unsafe-characters.ts) and of towers of combining marks, and bounded
 * before anything else keeps it.
 */
import { showNonAscii, UNSAFE_CHARS } from '../unsafe-characters.js';

export type GalleryStatus =
  'live' | 'mismatch' | 'invalid' | 'error' | 'timeout' | 'unreachable' | 'pending' | 'not-deployed';

/** The checked answer: only the three fields the gallery shows, each bounded. */
export interface StudentAnswer {
  readonly name: string;
  readonly github_username: string;
  readonly container_tag: string;
}

const MAX_FIELD_CHARS = 200;
/**
 * Marks stacked on one character beyond this many are dropped: scripts need a few, "Zalgo"
 * text hundreds. Joiners between them do not break the stack (they draw nothing).
 */
const STACKED_MARKS = /((?:\p{M}[\u200c\u200d]*){4})[\p{M}\u200c\u200d]+/gu;

/** Text without unsafe characters or towers of marks, cut to `max` characters (never half of one). */
function bounded(text: string, max = MAX_FIELD_CHARS): string {
  const chars = [...text.replace(UNSAFE_CHARS, '').replace(STACKED_MARKS, '$1')];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : chars.join('');
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

/** GitHub's longest login. */
const MAX_LOGIN = 39;

/** live when the app says it is the roster's login (GitHub logins are case-insensitive), else mismatch. */
export function answerStatus(
  answer: StudentAnswer,
  rosterLogin: string,
): { status: 'live' | 'mismatch'; reason?: string } {
  if (answer.github_username.toLowerCase() === rosterLogin.toLowerCase()) return { status: 'live' };
  // Quoted as JSON, so a quote in it cannot end it early; a login is ASCII, so a joiner shows as its escape.
  // No login is longer than GitHub's 39 characters: what goes past them is cut before it is escaped.
  const claim = [...answer.github_username];
  const more = claim.length > MAX_LOGIN ? '…' : '';
  const claimed = showNonAscii(JSON.stringify(claim.slice(0, MAX_LOGIN).join(''))) + more;
  return { status: 'mismatch', reason: `the app says it belongs to ${claimed}, not "${rosterLogin}"` };
}

/** A message from the network or a student's server, cut to a size fit for a card. */
export function shortReason(text: string, max = 160): string {
  return bounded(text, max);
}
