import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { configDefaults, configSchema, generatedFiles, TABLE_END, TABLE_START } from '../../scripts/generate.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const GENERATED = [
  'helm/classops/files/grafana-dashboard.json',
  'helm/classops/files/prometheus-rules.yaml',
  'helm/classops/values.yaml',
  'helm/classops/values.schema.json',
  'README.md',
  'manifests/classops.yaml',
];

describe('files derived from others are up to date (npm run generate)', () => {
  let expected: Map<string, string>;
  beforeAll(async () => {
    expected = new Map((await generatedFiles()).map((f) => [f.path, f.content]));
  });

  test('the generator writes exactly these files', () => {
    expect([...expected.keys()].sort()).toEqual([...GENERATED].sort());
  });

  test.each(GENERATED)('%s', (path) => {
    // On failure: run `npm run generate` and commit what it wrote.
    expect(read(path)).toBe(expected.get(path));
  });

  test("the chart's config is the whole default classops.yaml", () => {
    expect(parseYaml(read('helm/classops/values.yaml')).config).toEqual(configDefaults());
  });

  test("values.schema.json checks config with the config schema's own rules", () => {
    const { $schema: _s, $id: _i, title: _t, ...config } = configSchema();
    const derived = JSON.parse(read('helm/classops/values.schema.json')).properties.config;
    expect({ ...derived, description: undefined }).toEqual({ ...config, description: undefined });
  });

  test('the README reference has a row for every setting', () => {
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
    for (const row of [
      '`source.tokenFile`',
      '`gallery.port`',
      '`CLASSOPS_GITHUB_WEBHOOK_SECRET_FILE`',
      '`render.quota`',
    ])
      expect(table).toContain(row);
  });
});
