import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classopsAsync } from '../support/cli.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { GitRepo } from '../support/git.js';
import { rosterText } from '../support/rosters.js';

const entry = (login: string, extra = '') => `  - name: "${login}"\n    github_username: "${login}"\n    container_image: "ghcr.io/${login.toLowerCase()}/app:v1"\n${extra}`;

let api: FakeApiServer;
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await api.stop();
});

function course(students: string): { repo: GitRepo; config: string } {
  const repo = new GitRepo();
  repo.write('students/week-01.yaml', rosterText(students));
  repo.commit('week 1');
  const dir = mkdtempSync(join(tmpdir(), 'classops-run-'));
  const config = join(dir, 'classops.yaml');
  writeFileSync(config, `source:\n  kind: git\n  url: ${repo.dir}\n  branch: main\n  path: students\ncluster:\n  kubeconfig: ${api.kubeconfig()}\n  leaderElection:\n    enabled: false\nserver:\n  port: 0\n`);
  return { repo, config };
}

const once = (config: string, ...args: string[]) => classopsAsync(['run', '--once', '--no-image-checks', '--config', config, ...args], { cwd: join(config, '..') });

describe('classops run against an API server', () => {
  test('applies every object; a second pass writes nothing', async () => {
    const { config } = course(entry('ann') + entry('bo') + entry('cy'));
    const first = await once(config);
    expect(first.code).toBe(0);
    expect(api.list('Deployment').map((d) => d.metadata.name).sort()).toEqual(['student-ann', 'student-bo', 'student-cy']);
    const writes = api.writes().length;
    console.log((await classopsAsync(['run', '--dry-run', '--no-image-checks', '--config', config], { cwd: join(config, '..') })).stdout);
    const second = await once(config);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('0 created, 0 updated, 0 pruned');
    expect(api.writes().length).toBe(writes);
  });
});
