/** The folder target (the embedded default's "cluster"): names it will not trust, its index, hand edits. */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DirectoryTarget, MANIFESTS_MARKER } from '../../src/cluster/directory.js';
import { guardTarget } from '../../src/cluster/course-guard.js';
import { planChanges } from '../../src/controller/plan.js';
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

test('a pass heals a hand-edited file that kept its spec hash; a file as written is up to date by its hash alone', async () => {
  const dir = join(root, 'out');
  const hashed = (port: number, hash: string): KubeObject => {
    const s = service('w1');
    return {
      ...s,
      metadata: { ...s.metadata, annotations: { 'classops.dev/spec-hash': hash } },
      spec: { ports: [{ port }] },
    };
  };
  const writer = new DirectoryTarget(dir);
  await writer.apply(hashed(80, 'h1'));
  await writer.finishPass();
  const options = (target: DirectoryTarget) => ({
    protection: { namespaces: new Set<string>(), unknown: false, owned: new Set(['w1']) },
    maxPruneFraction: 0.5,
    allowMassPrune: false,
    writtenAsIs: (o: KubeObject) => target.writtenAsIs(o),
  });
  const planned = async (desired: KubeObject) => {
    const target = new DirectoryTarget(dir);
    const plan = planChanges([desired], await target.listManaged(), options(target));
    return plan.unchanged.length === 1 ? 'unchanged' : plan.update.length === 1 ? 'update' : 'other';
  };
  // The file is what was written from an object with hash h1: the hash speaks for every field…
  expect(await planned(hashed(80, 'h1'))).toBe('unchanged');
  expect(await planned(hashed(80, 'h2'))).toBe('update');
  // …until someone edits it, even leaving the annotation alone: then its fields are compared.
  const file = join(dir, 'w1/service-student-ann.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('port: 80', 'port: 8080'));
  expect(await planned(hashed(80, 'h1'))).toBe('update');
});

test('an edit of the same size with its times put back is drift, even right after the write and on a second look', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  const file = join(dir, 'w1/service-student-ann.yaml');
  const { atime, mtime } = statSync(file);
  // In place, straight after the write (a watcher, a second process), times restored as `touch -r`
  // does; on exFAT and some FUSE file systems even the ctime stays: only the bytes tell.
  writeFileSync(file, readFileSync(file, 'utf8').replace('port: 80', 'port: 81'));
  utimesSync(file, atime, mtime);
  await writer.finishPass();
  for (let look = 0; look < 2; look++) {
    const reader = new DirectoryTarget(dir);
    const [listed] = await reader.listManaged();
    expect(listed!['spec']).toEqual({ ports: [{ port: 81 }] });
    expect(reader.writtenAsIs(listed!)).toBe(false);
    await reader.finishPass();
  }
});

test('an index entry that is not an entry (null, a number) only means that file is parsed', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  await writer.apply(service('w1', 'student-bo'));
  await writer.finishPass();
  const indexFile = join(dir, '.classops-index.json');
  const saved = JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, unknown>;
  saved['w1/service-student-ann.yaml'] = null;
  saved['w1/service-student-bo.yaml'] = 7;
  writeFileSync(indexFile, JSON.stringify(saved));
  const reader = new DirectoryTarget(dir);
  const listed = await reader.listManaged();
  expect(listed).toEqual([service('w1'), service('w1', 'student-bo')]);
  expect(listed.some((o) => reader.writtenAsIs(o))).toBe(false);
});

test('only regular files are read: a FIFO named like an object file never blocks a pass', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  await writer.finishPass();
  // Reading a FIFO waits for a writer that never comes, and blocks SIGTERM with it.
  execFileSync('mkfifo', [join(dir, 'w1/service-student-bo.yaml')]);
  const listed = await new DirectoryTarget(dir).listManaged();
  expect(listed).toEqual([service('w1')]);
});

test('a field added to a file by hand is drift: a folder adds nothing, unlike an API server', async () => {
  const dir = join(root, 'out');
  const rendered = (revision: string): KubeObject => {
    const s = service('w1');
    const annotations = { 'classops.dev/spec-hash': 'h1', 'classops.dev/source-revision': revision };
    return { ...s, metadata: { ...s.metadata, annotations } };
  };
  const writer = new DirectoryTarget(dir);
  await writer.apply(rendered('r1'));
  await writer.finishPass();
  const planned = async () => {
    const target = guardTarget(new DirectoryTarget(dir), () => true);
    const plan = planChanges([rendered('r2')], await target.listManaged(), {
      protection: { namespaces: new Set<string>(), unknown: false, owned: new Set(['w1']) },
      maxPruneFraction: 0.5,
      allowMassPrune: false,
      writtenAsIs: (o: KubeObject) => target.writtenAsIs?.(o) === true,
      exact: target.exact === true,
    });
    return plan.unchanged.length === 1 ? 'unchanged' : plan.update.length === 1 ? 'update' : 'other';
  };
  // The index lost: the file is parsed and compared, and is what classops would write (another revision).
  rmSync(join(dir, '.classops-index.json'));
  expect(await planned()).toBe('unchanged');
  const file = join(dir, 'w1/service-student-ann.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace('spec:\n', 'spec:\n  externalIPs:\n    - 203.0.113.9\n'));
  expect(await planned()).toBe('update');
});

test('a folder it did not make is refused; an empty or new one is taken', () => {
  writeFileSync(join(root, 'notes.txt'), 'mine');
  expect(() => new DirectoryTarget(root)).toThrow(
    /refusing to manage .*: it is not empty and was not made by "classops run"/,
  );
  expect(() => new DirectoryTarget(join(root, 'new'))).not.toThrow();
  mkdirSync(join(root, 'empty'));
  expect(new DirectoryTarget(join(root, 'empty')).description).toBe(`folder ${join(root, 'empty')}`);
  expect(() => new DirectoryTarget(join(root, 'notes.txt'))).toThrow(
    `cluster.manifestsDir ${JSON.stringify(join(root, 'notes.txt'))}: it is a file, not a folder`,
  );
  // An empty setting is no folder at all, not the working folder.
  expect(() => new DirectoryTarget('')).toThrow(
    'cluster.manifestsDir "": no folder is named (an empty setting); name one, e.g. out/manifests',
  );
});

const deployment = (namespace: string, login: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: `student-${login}`, namespace, labels: { 'app.kubernetes.io/managed-by': 'classops' } },
  spec: { replicas: 1 },
});

test('valid Kubernetes names are written; any other namespace, name or kind is refused', async () => {
  const dir = join(root, 'out');
  const target = new DirectoryTarget(dir);
  const odd = (kind: string): KubeObject => ({ ...service('ns'), kind });
  for (const good of [service('a', 'b'), service('week-1', 'student-ann.v2'), service('w1', 'x9')])
    await target.apply(good);
  expect(readdirSync(join(dir, 'week-1'))).toEqual(['service-student-ann.v2.yaml']);
  const bad = [
    service('ns', 'Student-Ann'),
    service('ns', 'ann-'),
    service('ns', '-ann'),
    service('ns', '.ann'),
    service('ns', 'a'.repeat(254)),
    service('ns', 'x\nann'),
    service('a.b'),
    service('ns-'),
    service('Ns'),
    service('ns\nx'),
    odd('Service1'),
    odd('Ser/vice'),
    odd('\nService'),
  ];
  for (const object of bad) await expect(target.apply(object)).rejects.toThrow(/not a valid Kubernetes name/);
  await expect(target.remove({ apiVersion: 'v1', kind: 'Service', namespace: '..', name: 'x' })).rejects.toThrow(
    /refusing to write Service \.\.\/x: not a valid Kubernetes name/,
  );
  expect(readdirSync(dir).sort()).toEqual(['.classops-manifests', 'a', 'w1', 'week-1']);
  expect(readFileSync(join(dir, '.classops-manifests'), 'utf8')).toBe(
    'Kept by classops run: files here are replaced and removed.\n',
  );
});

test('a name as long as a file name can be is written and read back; one longer is refused, and nothing is left', async () => {
  const dir = join(root, 'out');
  const target = new DirectoryTarget(dir);
  const longest = 'a'.repeat(255 - 'service-.yaml'.length);
  await target.apply(service('ns', longest));
  await target.finishPass();
  expect(readdirSync(join(dir, 'ns'))).toEqual([`service-${longest}.yaml`]);
  expect(await new DirectoryTarget(dir).listManaged()).toEqual([service('ns', longest)]);

  await expect(target.apply(service('ns', `${longest}b`))).rejects.toThrow(
    `refusing to write Service ns/${longest}b: its file name would be longer than the 255 bytes a file system allows`,
  );
  expect(readdirSync(join(dir, 'ns'))).toEqual([`service-${longest}.yaml`]);
});

test('a cluster-wide object (a Namespace) has its file in _cluster/ and is read back', async () => {
  const dir = join(root, 'out');
  const namespace: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'w1', labels: { 'app.kubernetes.io/managed-by': 'classops' } },
  };
  await new DirectoryTarget(dir).apply(namespace);
  expect(readdirSync(join(dir, '_cluster'))).toEqual(['namespace-w1.yaml']);
  expect(await new DirectoryTarget(dir).listManaged()).toEqual([namespace]);
});

test('a folder not made yet holds nothing and runs no one', async () => {
  const target = new DirectoryTarget(join(root, 'new'));
  expect(await target.listManaged()).toEqual([]);
  expect(await target.health()).toEqual(new Map());
  await target.finishPass();
  expect(existsSync(join(root, 'new'))).toBe(false);
});

test('only the files classops wrote are its objects: not broken YAML, unlabelled objects or stray copies', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  await writer.finishPass();
  const written = readFileSync(join(dir, 'w1/service-student-ann.yaml'), 'utf8');
  writeFileSync(join(dir, 'w1/service-copy.yaml'), written);
  writeFileSync(join(dir, 'w1/service-broken.yaml'), 'metadata: [\n');
  writeFileSync(join(dir, 'w1/service-bare.yaml'), 'kind: Service\n');
  writeFileSync(
    join(dir, 'w1/service-other.yaml'),
    written.replaceAll('student-ann', 'other').replace('classops', 'someone'),
  );
  writeFileSync(join(dir, 'w1/notes.txt'), written);
  writeFileSync(join(dir, 'w1/service-evil.yaml'), written.replaceAll('student-ann', '../evil'));
  for (const reader of [writer, new DirectoryTarget(dir)]) expect(await reader.listManaged()).toEqual([service('w1')]);
});

test('remove deletes the file and its index entry; the index is saved only after a change, with relative paths', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  await writer.apply(service('w1', 'student-bo'));
  await writer.finishPass();
  const index = () => Object.keys(JSON.parse(readFileSync(join(dir, '.classops-index.json'), 'utf8')) as object);
  expect(index()).toEqual(['w1/service-student-ann.yaml', 'w1/service-student-bo.yaml']);

  const remover = new DirectoryTarget(dir);
  await remover.remove({ apiVersion: 'v1', kind: 'Service', namespace: 'w1', name: 'student-ann' });
  await remover.remove({ apiVersion: 'v1', kind: 'Service', namespace: 'w1', name: 'student-cy' });
  await remover.finishPass();
  expect(readdirSync(join(dir, 'w1'))).toEqual(['service-student-bo.yaml']);
  expect(index()).toEqual(['w1/service-student-bo.yaml']);

  // What a pass found unchanged stays in the index.
  const adder = new DirectoryTarget(dir);
  expect(await adder.listManaged()).toEqual([service('w1', 'student-bo')]);
  await adder.apply(service('w1', 'student-cy'));
  await adder.finishPass();
  expect(index()).toEqual(['w1/service-student-bo.yaml', 'w1/service-student-cy.yaml']);

  // A pass that changed nothing writes no index, also when the pass before it did.
  rmSync(join(dir, '.classops-index.json'));
  await adder.finishPass();
  expect(existsSync(join(dir, '.classops-index.json'))).toBe(false);
  const reader = new DirectoryTarget(dir);
  expect(await reader.listManaged()).toEqual([service('w1', 'student-bo'), service('w1', 'student-cy')]);
  await reader.remove({ apiVersion: 'v1', kind: 'Service', namespace: 'w1', name: 'student-zed' });
  await reader.finishPass();
  expect(existsSync(join(dir, '.classops-index.json'))).toBe(false);
});

test('an unreadable index only means every file is parsed', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  await writer.finishPass();
  writeFileSync(join(dir, '.classops-index.json'), '{ not json');
  expect(await new DirectoryTarget(dir).listManaged()).toEqual([service('w1')]);
});

test('each Deployment file is a Rendered student of its namespace', async () => {
  const dir = join(root, 'out');
  const target = new DirectoryTarget(dir);
  for (const o of [deployment('w1', 'ann'), deployment('w2', 'bo'), service('w1')]) await target.apply(o);
  writeFileSync(join(dir, 'w1/old-deployment-student-cy.yaml'), 'kept by hand\n');
  expect(await target.health()).toEqual(
    new Map([
      ['w1/ann', { phase: 'Rendered', reason: undefined }],
      ['w2/bo', { phase: 'Rendered', reason: undefined }],
    ]),
  );
});

test("after a listing, health follows the pass's own writes and removals", async () => {
  const dir = join(root, 'out');
  await new DirectoryTarget(dir).apply(deployment('w1', 'ann'));
  const target = new DirectoryTarget(dir);
  await target.listManaged();
  await target.apply(deployment('w1', 'bo'));
  await target.remove({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'w1', name: 'student-ann' });
  expect(await target.health()).toEqual(new Map([['w1/bo', { phase: 'Rendered', reason: undefined }]]));
});

test('a namespace folder that is a link is neither read nor written or deleted through', async () => {
  const dir = join(root, 'out');
  const writer = new DirectoryTarget(dir);
  await writer.apply(service('w1'));
  await writer.finishPass();
  const victim = join(root, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'service-student-ann.yaml'), readFileSync(join(dir, 'w1/service-student-ann.yaml')));
  rmSync(join(dir, 'w1'), { recursive: true });
  symlinkSync(victim, join(dir, 'w1'));
  const target = new DirectoryTarget(dir);
  expect(await target.listManaged()).toEqual([]);
  await expect(target.apply(service('w1', 'student-bo'))).rejects.toThrow(/w1 is a symbolic link/);
  await expect(
    target.remove({ apiVersion: 'v1', kind: 'Service', namespace: 'w1', name: 'student-ann' }),
  ).rejects.toThrow(/w1 is a symbolic link/);
  expect(readdirSync(victim)).toEqual(['service-student-ann.yaml']);
});

test('a marker that is a link is replaced, and what it pointed at is left alone', async () => {
  const dir = join(root, 'out');
  await new DirectoryTarget(dir).apply(service('w1'));
  const victim = join(root, 'precious.txt');
  writeFileSync(victim, 'precious\n');
  rmSync(join(dir, MANIFESTS_MARKER));
  symlinkSync(victim, join(dir, MANIFESTS_MARKER));
  const target = new DirectoryTarget(dir);
  expect(await target.listManaged()).toEqual([service('w1')]);
  await target.apply(service('w1', 'student-bo'));
  expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  expect(readFileSync(join(dir, MANIFESTS_MARKER), 'utf8')).toContain('Kept by classops run');
});

test('a folder named relative to the working directory, or with a trailing slash, is the same folder', async () => {
  const target = new DirectoryTarget(`./${relative(process.cwd(), join(root, 'out'))}/`);
  await target.apply(service('w1'));
  expect(readdirSync(join(root, 'out/w1'))).toEqual(['service-student-ann.yaml']);
});

describe('after a process was killed mid-pass, a file in another form, and when writing fails', () => {
  const hashed = (): KubeObject => {
    const s = service('w1');
    return { ...s, metadata: { ...s.metadata, annotations: { 'classops.dev/spec-hash': 'h1' } } };
  };
  const pass = async (dir: string, desired: KubeObject[]) => {
    const target = guardTarget(new DirectoryTarget(dir), () => true);
    const live = await target.listManaged();
    const plan = planChanges(desired, live, {
      protection: { namespaces: new Set<string>(), unknown: false, owned: new Set(['w1']) },
      maxPruneFraction: 0.5,
      allowMassPrune: false,
      writtenAsIs: (o: KubeObject) => target.writtenAsIs?.(o) === true,
      needsRewrite: (o: KubeObject) => target.needsRewrite?.(o) === true,
      exact: target.exact === true,
    });
    await target.finishPass?.(plan.unchangedLive);
    return { plan, trusted: live.filter((o) => target.writtenAsIs?.(o) === true).length };
  };
  const temporaries = (dir: string) =>
    readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('.tmp-'));

  test("the temporary files of a process killed mid-write are cleared once settled; a writer's are not", async () => {
    const dir = join(root, 'out');
    await new DirectoryTarget(dir).apply(hashed());
    const writer = spawn('sleep', ['30']); // another classops writing now
    const dated = (file: string, ms: number) => {
      writeFileSync(join(dir, file), 'half');
      utimesSync(join(dir, file), new Date(Date.now() - ms), new Date(Date.now() - ms));
    };
    try {
      // Killed a minute ago or more: pids that run no more, and this very pid (a predecessor's, as pid 1 in a container).
      dated('.classops-index.json.tmp-999999999', 120_000);
      dated('.classops-manifests.tmp-999999998', 120_000);
      dated(`w1/.tmp-${process.pid}`, 120_000);
      // A running pid's over an hour old: the pid was reused since.
      dated(`.classops-manifests.tmp-${writer.pid}`, 7_200_000);
      // Kept: a running pid's two minutes old; one just written by a pid that does not run here (another
      // container's classops may be writing it); a file that only looks like a temporary.
      dated(`w1/.tmp-${writer.pid}`, 120_000);
      dated('w1/.tmp-999999997', 0);
      dated('w1/.tmp-notes', 7_200_000);
      await pass(dir, [hashed()]);
      expect(temporaries(dir).sort()).toEqual([`w1/.tmp-${writer.pid}`, 'w1/.tmp-999999997', 'w1/.tmp-notes']);
    } finally {
      writer.kill();
    }
  });

  test('a file written before the index was saved is parsed once; found up to date, it is trusted by its hash', async () => {
    const dir = join(root, 'out');
    await new DirectoryTarget(dir).apply(hashed()); // killed before finishPass: no index
    expect(existsSync(join(dir, '.classops-index.json'))).toBe(false);
    const first = await pass(dir, [hashed()]);
    expect([first.plan.unchanged.length, first.trusted]).toEqual([1, 0]);
    const second = await pass(dir, [hashed()]);
    expect([second.plan.unchanged.length, second.trusted]).toEqual([1, 1]);
  });

  test('a parsed file that differs from what is desired is not trusted, nor is an object the target did not list', async () => {
    const dir = join(root, 'out');
    await new DirectoryTarget(dir).apply(hashed());
    const file = join(dir, 'w1/service-student-ann.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('port: 80', 'port: 81'));
    expect((await pass(dir, [hashed()])).plan.update).toHaveLength(1);
    const target = new DirectoryTarget(dir);
    await target.listManaged();
    await target.finishPass([hashed()]);
    expect(existsSync(join(dir, '.classops-index.json'))).toBe(false);
    const [listed] = await new DirectoryTarget(dir).listManaged();
    expect(listed!['spec']).toEqual({ ports: [{ port: 81 }] });
  });

  test('a file in another form than classops writes is rewritten, though every field reads the same here', async () => {
    const dir = join(root, 'out');
    const portOf = (port: number): KubeObject => ({ ...hashed(), spec: { ports: [{ port }] } });
    await new DirectoryTarget(dir).apply(portOf(5000));
    const file = join(dir, 'w1/service-student-ann.yaml');
    // 5000 to this parser (YAML 1.2), 2560 to YAML 1.1 readers such as kubectl's.
    writeFileSync(file, readFileSync(file, 'utf8').replace('port: 5000', 'port: 05000'));
    expect((await pass(dir, [portOf(5000)])).plan.update).toHaveLength(1);
    // A comment keeps every value, yet is not what classops writes: written again, not trusted.
    writeFileSync(file, `# kept by hand\n${readFileSync(file, 'utf8').replace('05000', '5000')}`);
    const commented = await pass(dir, [portOf(5000)]);
    expect([commented.plan.update.length, commented.plan.unchanged.length]).toEqual([1, 0]);
    expect(existsSync(join(dir, '.classops-index.json'))).toBe(false);
  });

  test('an empty map added by hand, or a byte that is not UTF-8, is drift though it reads the same here', async () => {
    const dir = join(root, 'out');
    const named = (name: string): KubeObject => ({ ...hashed(), spec: { ports: [{ port: 80, name }] } });
    await new DirectoryTarget(dir).apply(named('caf\ufffd'));
    const file = join(dir, 'w1/service-student-ann.yaml');
    const written = readFileSync(file);
    writeFileSync(file, written.toString('utf8').replace('spec:\n', 'spec:\n  extra: {}\n'));
    expect((await pass(dir, [named('caf\ufffd')])).plan.update).toHaveLength(1);
    // U+FFFD is EF BF BD in UTF-8; a lone FF decodes to it here, and is an error to other readers.
    const at = written.indexOf(Buffer.from('\ufffd'));
    writeFileSync(file, Buffer.concat([written.subarray(0, at), Buffer.from([0xff]), written.subarray(at + 3)]));
    expect((await pass(dir, [named('caf\ufffd')])).plan.update).toHaveLength(1);
    expect(existsSync(join(dir, '.classops-index.json'))).toBe(false);
  });

  test('a link planted under the temporary name is replaced, never written through', async () => {
    const dir = join(root, 'out');
    const writer = new DirectoryTarget(dir);
    await writer.apply(service('w1'));
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'precious');
    symlinkSync(outside, join(dir, `w1/.tmp-${process.pid}`));
    await writer.apply(service('w1', 'student-bo'));
    expect(readFileSync(outside, 'utf8')).toBe('precious');
    expect(readdirSync(join(dir, 'w1')).sort()).toEqual(['service-student-ann.yaml', 'service-student-bo.yaml']);
  });

  test('a write that fails leaves no temporary file behind', async () => {
    const dir = join(root, 'out');
    mkdirSync(join(dir, 'w1/service-student-ann.yaml'), { recursive: true }); // a folder where the file goes
    writeFileSync(join(dir, MANIFESTS_MARKER), '');
    const target = new DirectoryTarget(dir);
    await expect(target.apply(service('w1'))).rejects.toThrow();
    expect(temporaries(dir)).toEqual([]);
  });

  test('an index that cannot be saved says the files are in place, and leaves no temporary file', async () => {
    const dir = join(root, 'out');
    mkdirSync(join(dir, '.classops-index.json'), { recursive: true });
    writeFileSync(join(dir, MANIFESTS_MARKER), '');
    const target = new DirectoryTarget(dir);
    await target.apply(service('w1'));
    await expect(target.finishPass()).rejects.toThrow(
      /could not save .*\.classops-index\.json .*: the object files are in place; the next pass tries again/,
    );
    expect(temporaries(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'w1'))).toEqual(['service-student-ann.yaml']);
  });
});
