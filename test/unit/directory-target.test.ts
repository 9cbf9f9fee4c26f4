/** The folder target (the embedded default's "cluster"): names it will not trust, its index, hand edits. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryTarget } from '../../src/cluster/directory.js';
import type { KubeObject } from '../../src/render/objects.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'classops-dir-target-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const service = (namespace: string, name = 'student-ann'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'classops' } },
  spec: { ports: [{ port: 80 }] },
});

test('a namespace or name that would lead outside the folder is refused, and nothing is written', async () => {
  const dir = join(root, 'out');
  const target = new DirectoryTarget(dir);
  for (const bad of [service('../../x'), service('ns', '../escape'), service('ns', 'a/b'), service('..')])
    await expect(target.apply(bad)).rejects.toThrow(/refusing to write/);
  expect(readdirSync(root)).toEqual([]);
});

test('what classops wrote is read back from its index; a hand edit is read from the file, as drift', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  await writer.finishPass();
  expect(existsSync(join(dir, '.classops-index.json'))).toBe(true);
  expect(await new DirectoryTarget(dir).listManaged()).toEqual([service('w1')]);

  const file = join(dir, 'w1/service-student-ann.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('port: 80', 'port: 8080'));
  const edited = await new DirectoryTarget(dir).listManaged();
  expect(edited[0]!['spec']).toEqual({ ports: [{ port: 8080 }] });
});

test('a folder it did not make is refused; an empty or new one is taken', () => {
  writeFileSync(join(root, 'notes.txt'), 'mine');
  expect(() => new DirectoryTarget(root)).toThrow(
    /refusing to manage .*: it is not empty and was not made by "classops run"/,
  );
  expect(() => new DirectoryTarget(join(root, 'new'))).not.toThrow();
});
