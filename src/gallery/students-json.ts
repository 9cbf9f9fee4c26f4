/**
 * The body of `/api/students`: a superset of the old gallery's `{"students": [...]}`.
 * Documented in the README ("The gallery").
 */
import type { Snapshot } from './collector.js';
import type { GalleryStatus, StudentAnswer } from './student-answer.js';

export interface StudentJson {
  readonly github_username: string;
  readonly name: string | null;
  readonly week: number | null;
  readonly status: GalleryStatus;
  readonly reason: string | null;
  readonly student: StudentAnswer | null;
  readonly url: string;
  readonly checkedAt: string | null;
  readonly lastLiveAt: string | null;
}

export function studentsJson(
  snapshot: Snapshot,
  appLink: (login: string) => string,
): { students: StudentJson[]; updatedAt: string } {
  return {
    students: snapshot.students.map((s) => ({
      github_username: s.target.githubUsername,
      name: s.target.name ?? null,
      week: s.target.week ?? null,
      status: s.status,
      reason: s.reason ?? null,
      student: s.answer ?? null,
      url: appLink(s.target.githubUsername),
      checkedAt: s.checkedAt ?? null,
      lastLiveAt: s.lastLiveAt ?? null,
    })),
    updatedAt: snapshot.updatedAt,
  };
}
