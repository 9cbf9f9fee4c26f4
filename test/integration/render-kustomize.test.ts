/**
 * `kubectl kustomize` reads classops' YAML as Argo CD and Flux do (go-yaml): every tree
 * `render --out` writes must read back whole, whatever a student wrote.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { toYaml } from '../../src/render/serialize.js';
import { classops } from '../support/cli.js';
import { FIXTURES, fixturePath } from '../support/rosters.js';

const made: string[] = [];
const tmp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};
afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function kustomize(dir: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`kubectl is needed for this test (kubectl kustomize): ${run.error.message}`);
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const documents = (text: string) => {
  const docs = parseAllDocuments(text);
  return (Array.isArray(docs) ? docs : []).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
};

describe('kubectl kustomize reads every tree classops renders', () => {
  test.each(readdirSync(FIXTURES).sort())('%s', (name) => {
    const out = join(tmp('classops-kustomize-'), 'manifests');
    const render = classops(['render', '--out', out, fixturePath(name)]);
    expect([0, 1]).toContain(render.code);
    // A file that cannot be read writes no tree at all (its week would be missing from it).
    if (render.stderr.includes('classops render: nothing was written:')) {
      expect(existsSync(out)).toBe(false);
      return;
    }
    const written = readdirSync(out, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml'))
      .flatMap((f) => documents(readFileSync(join(out, f), 'utf8')));
    const read = kustomize(out);
    expect(read.stderr).toBe('');
    expect(read.status).toBe(0);
    const names = (objects: ReturnType<typeof documents>) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(names(documents(read.stdout))).toEqual(names(written));
  });
});

describe('a string that slipped past validation still renders YAML every reader takes', () => {
  const refused = ['\u007f', '\u0080', '\u0085', '\u009b', '\u009f', '\ufffe', '\uffff', '\ud800', '\udc00'];
  const kept = ['\u0001', '\t', '\n', '\u00a0', '\u2028', '\u2029', '\ufeff', '\ufdd0', '\u{1fffe}', '😀', '"\\'];

  test('each refused character becomes U+FFFD; everything else reads back as written', () => {
    const data: Record<string, string> = {};
    [...refused, ...kept].forEach((c, i) => (data[`k${String(i).padStart(2, '0')}`] = `a${c}b`));
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hostile', annotations: data }, data };
    const dir = tmp('classops-hostile-');
    writeFileSync(join(dir, 'kustomization.yaml'), toYaml({ resources: ['configmap.yaml'] }));
    writeFileSync(join(dir, 'configmap.yaml'), toYaml(object));

    const read = kustomize(dir);
    expect(read.stderr).toBe('');
    expect(read.status).toBe(0);
    const expected: Record<string, string> = {};
    refused.forEach((_, i) => (expected[`k${String(i).padStart(2, '0')}`] = 'a\ufffdb'));
    kept.forEach((c, i) => (expected[`k${String(refused.length + i).padStart(2, '0')}`] = `a${c}b`));
    const configMap = parse(read.stdout) as {
      data: Record<string, string>;
      metadata: { annotations: Record<string, string> };
    };
    // go-yaml's own emitter writes U+2028/U+2029 as line breaks in what kubectl prints: compare the rest.
    const withoutLineSeparators = (map: Record<string, string>) =>
      Object.fromEntries(Object.entries(map).filter(([, v]) => !/[\u2028\u2029]/.test(v)));
    expect(withoutLineSeparators(configMap.data)).toEqual(withoutLineSeparators(expected));
    expect(withoutLineSeparators(configMap.metadata.annotations)).toEqual(withoutLineSeparators(expected));
    // YAML 1.1 readers take U+2028/U+2029 for line breaks unless they are escaped.
    for (const version of ['1.1', '1.2'] as const) {
      expect((parse(readFileSync(join(dir, 'configmap.yaml'), 'utf8'), { version }) as typeof configMap).data).toEqual(
        expected,
      );
    }
  });
});
