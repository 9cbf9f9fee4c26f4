import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubeConfigFor } from '../../src/cluster/connect.js';
import { loadConfig } from '../../src/config.js';
import { renderStudents } from '../../src/render/week.js';
import { tempDir } from '../support/temp.js';

const kubeconfig = () => {
  const file = join(tempDir('classops-kc-'), 'config');
  writeFileSync(
    file,
    'apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://prod.example:6443\nusers:\n- name: u\n  user:\n    token: t\ncontexts:\n- name: prod\n  context:\n    cluster: prod\n    user: u\ncurrent-context: prod\n',
  );
  return file;
};

describe('which cluster, if any', () => {
  test('a stray KUBECONFIG on a laptop never selects a cluster', () => {
    expect(
      kubeConfigFor({ kubeconfig: '', context: '' }, { KUBECONFIG: kubeconfig(), HOME: '/nonexistent' }),
    ).toBeUndefined();
  });
  test('a named kubeconfig (and context) does', () => {
    const kc = kubeConfigFor({ kubeconfig: kubeconfig(), context: 'prod' }, {});
    expect(kc?.getCurrentCluster()?.server).toBe('https://prod.example:6443');
  });
});

describe('render name collisions', () => {
  test('entries whose object names collide are both left out, with a finding on each line', () => {
    const config = loadConfig({ env: {} });
    const entry = (login: string) => ({
      name: login,
      githubUsername: login,
      containerImage: `ghcr.io/${login.toLowerCase()}/app:v1`,
      studentEndpoint: '/student',
      healthEndpoint: '/health',
      port: 5000,
    });
    const week = renderStudents(
      { file: 'week-01.yaml', week: 1, namespace: 'w1' },
      [
        { entry: entry('Ann'), digest: undefined, line: 6, index: 0, latest: true },
        { entry: entry('ann'), digest: undefined, line: 9, index: 1, latest: true },
        { entry: entry('bo'), digest: undefined, line: 12, index: 2, latest: true },
      ],
      config,
      'r',
    );
    expect(week.students.map((s) => s.student)).toEqual(['bo']);
    expect(week.findings.map((f) => [f.code, f.line])).toEqual([
      ['render-name-collision', 6],
      ['render-name-collision', 9],
    ]);
  });
});
