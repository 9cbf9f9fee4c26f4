/** A course as the controller tests drive it: a real git repository of rosters and a classops.yaml pointing at it. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classopsAsync, type CliResult } from './cli.js';
import type { FakeApiServer } from './fake-apiserver.js';
import { GitRepo } from './git.js';
import { rosterText } from './rosters.js';
import { tempDir } from './temp.js';

export const NS = 'container-course-week01';

/** One roster entry, indented as in students/week-NN.yaml. */
export const entry = (login: string, image = `ghcr.io/${login.toLowerCase()}/app:v1`, extra = '') =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "${image}"\n${extra}`;

export interface Course {
  readonly repo: GitRepo;
  readonly config: string;
  /** Commits a new week-01 roster. */
  commit(students: string, message?: string): void;
  commitText(text: string): void;
}

/** A week-01 roster in git, and a config for one controller against `api` (no leader election). */
export function course(api: FakeApiServer, students: string, extraConfig = ''): Course {
  const repo = new GitRepo();
  repo.write('students/week-01.yaml', rosterText(students));
  repo.commit('week 1');
  const config = join(tempDir('classops-run-'), 'classops.yaml');
  writeFileSync(
    config,
    `source:\n  kind: git\n  url: ${repo.dir}\n  branch: main\n  path: students\ncluster:\n  kubeconfig: ${api.kubeconfig()}\n  leaderElection:\n    enabled: false\nserver:\n  port: 0\n${extraConfig}`,
  );
  return {
    repo,
    config,
    commit(students, message = 'update') {
      repo.write('students/week-01.yaml', rosterText(students));
      repo.commit(message);
    },
    commitText(text) {
      repo.write('students/week-01.yaml', text);
      repo.commit('edit');
    },
  };
}

/** `classops run --once` for the course, from its own folder. */
export const runOnce = (c: Course, ...args: string[]): Promise<CliResult> =>
  classopsAsync(['run', '--once', '--config', c.config, ...args], { cwd: join(c.config, '..') });

/** A course of several week files, committed together, with options for the operator tests. */
export class CourseRepo {
  readonly repo = new GitRepo('classops-course-');
  readonly dir = tempDir('classops-course-run-');
  readonly config = join(this.dir, 'classops.yaml');

  /** Week files by path (`students/week-01.yaml` → entries), committed at once. */
  constructor(
    api: FakeApiServer,
    weeks: Record<string, string>,
    extraConfig = '',
    options: { leaderElection?: boolean; pollInterval?: string; resyncInterval?: string } = {},
  ) {
    for (const [path, students] of Object.entries(weeks)) this.write(path, students);
    this.repo.commit('the course');
    writeFileSync(
      this.config,
      `source:\n  kind: git\n  url: ${this.repo.dir}\n  branch: main\n  path: students\n  pollInterval: ${options.pollInterval ?? '30s'}\ncluster:\n  kubeconfig: ${api.kubeconfig()}\n  resyncInterval: ${options.resyncInterval ?? '5m'}\n  leaderElection:\n    enabled: ${options.leaderElection === true}\nserver:\n  port: 0\n${extraConfig}`,
    );
  }

  /** Writes a roster of week N (from the file name unless given) with these entries. */
  write(path: string, students: string, week = Number(/(\d+)/.exec(path)?.[1] ?? 1)): this {
    this.repo.write(path, rosterText(students, week));
    return this;
  }

  commit(message = 'update'): this {
    this.repo.commit(message);
    return this;
  }

  once(...args: string[]): Promise<CliResult> {
    return classopsAsync(['run', '--once', '--no-image-checks', '--config', this.config, ...args], { cwd: this.dir });
  }
}
