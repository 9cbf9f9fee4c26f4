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
