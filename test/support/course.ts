/** A course repository in real git, and `classops run` pointed at it and at the fake API server. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classopsAsync, type CliResult } from './cli.js';
import type { FakeApiServer } from './fake-apiserver.js';
import { GitRepo } from './git.js';
import { rosterText } from './rosters.js';

/** One roster entry, indented as in the bundled sample. */
export const entry = (login: string, image = `ghcr.io/${login.toLowerCase()}/app:v1`, extra = '') =>
  `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "${image}"\n${extra}`;

export class Course {
  readonly repo = new GitRepo('classops-course-');
  readonly dir = mkdtempSync(join(tmpdir(), 'classops-course-run-'));
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

  remove(): void {
    rmSync(this.repo.dir, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
