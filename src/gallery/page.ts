/** The server-rendered `/gallery` page: one card per student, grouped by week, readable without JavaScript. */
import Handlebars from 'handlebars';
import type { Snapshot, StudentRecord } from './collector.js';
import { PAGE_TEMPLATE } from './page-template.js';
import { answerStatus, type GalleryStatus } from './student-answer.js';

/** Status in words, with a symbol so that colour is never the only sign. */
export const STATUS_TEXT: Record<GalleryStatus, { text: string; symbol: string }> = {
  live: { text: 'Live', symbol: '✓' },
  mismatch: { text: 'Wrong student', symbol: '⚠' },
  invalid: { text: 'Invalid answer', symbol: '✗' },
  error: { text: 'Server error', symbol: '✗' },
  timeout: { text: 'Too slow', symbol: '✗' },
  unreachable: { text: 'Unreachable', symbol: '✗' },
  pending: { text: 'Not checked yet', symbol: '…' },
  'not-deployed': { text: 'Not deployed', symbol: '–' },
};

export interface PageOptions {
  readonly title: string;
  /** Where the page's CSS and JS are served: `/gallery`. */
  readonly base: string;
  readonly apiPath: string;
  readonly refreshSeconds: number;
  /** The public link of a student's app. */
  readonly appLink: (login: string) => string;
}

const render = Handlebars.create().compile(PAGE_TEMPLATE, { noEscape: false });

const clock = (iso: string) => `${iso.slice(11, 19)} UTC`;

function card(record: StudentRecord, options: PageOptions) {
  const { target, status, reason, answer, checkedAt, lastLiveAt } = record;
  const words = STATUS_TEXT[status];
  // The app's own name only when it answers as this student: an impostor would put another's name on the card.
  const ownName = answer !== undefined && answerStatus(answer, target.githubUsername).status === 'live';
  const displayName = target.name ?? (ownName ? answer.name : undefined) ?? target.githubUsername;
  return {
    displayName,
    login: target.githubUsername,
    status,
    statusText: words.text,
    symbol: words.symbol,
    reason,
    answer,
    answerLabel: status === 'live' || status === 'mismatch' ? 'The app says:' : 'Its last answer:',
    href: options.appLink(target.githubUsername),
    checkedAt,
    fromController: target.known !== undefined,
    checkedText: checkedAt === undefined ? undefined : clock(checkedAt),
    lastLiveText: status !== 'live' && lastLiveAt !== undefined ? clock(lastLiveAt) : undefined,
    search: `${displayName} ${target.githubUsername} ${words.text} ${status}`.toLowerCase(),
  };
}

export function renderGalleryPage(snapshot: Snapshot, options: PageOptions): string {
  const weeks = new Map<string, StudentRecord[]>();
  for (const s of snapshot.students) {
    const label = s.target.week === undefined ? 'Other' : `Week ${s.target.week}`;
    const list = weeks.get(label);
    if (list === undefined) weeks.set(label, [s]);
    else list.push(s);
  }
  const live = snapshot.students.filter((s) => s.status === 'live').length;
  return render({
    title: options.title,
    base: options.base,
    apiPath: options.apiPath,
    refreshSeconds: options.refreshSeconds,
    updatedAt: snapshot.updatedAt,
    updatedText: clock(snapshot.updatedAt),
    counts: {
      live,
      notLive: snapshot.students.length - live,
      total: snapshot.students.length,
      noun: snapshot.students.length === 1 ? 'student' : 'students',
    },
    weeks: [...weeks].map(([label, students]) => ({
      label,
      id: label
        .toLowerCase()
        .replace(/^week /, '')
        .replace(/\s+/g, '-'),
      live: students.filter((s) => s.status === 'live').length,
      total: students.length,
      students: students.map((s) => card(s, options)),
    })),
  });
}
