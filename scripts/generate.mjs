// Writes every file derived from another one, so none is kept in step by hand:
//   helm/classops/values.yaml (its `config:` block)  from schemas/config.schema.json's defaults
//   helm/classops/values.schema.json (`config`)      from schemas/config.schema.json
//   helm/classops/files/*                            copies of monitoring/ (a chart reads only its own files)
//   README.md (configuration reference table)        from schemas/config.schema.json
//   README.md (the sample pull request comment)      from classops validate and pr-report's formatComment
//   manifests/classops.yaml                          the chart rendered with its default values
// `npm run generate` after changing any source; test/unit/generated.test.ts fails while one is stale.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import * as prettier from 'prettier';
import { Document } from 'yaml';
import { envName } from '../dist/config.js';
import { formatComment } from '../dist/github/pr-comment.js';
import { readReport } from '../dist/github/report-file.js';
import { renderChart, toManifest } from './helm-template.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const CHART = `${ROOT}helm/classops`;
const read = (path) => readFileSync(`${ROOT}${path}`, 'utf8');
const VALUES_MARKER = '# ---- config: generated from schemas/config.schema.json';
export const TABLE_START = '<!-- config-table:start (npm run generate) -->';
export const TABLE_END = '<!-- config-table:end -->';
export const SAMPLE_START = '<!-- pr-comment-sample:start (npm run generate) -->';
export const SAMPLE_END = '<!-- pr-comment-sample:end -->';

export function configSchema() {
  return JSON.parse(read('schemas/config.schema.json'));
}

/** The whole default classops.yaml: what loadConfig gives for an empty file. */
export function configDefaults(schema = configSchema()) {
  const data = {};
  new Ajv2020({ strict: true, useDefaults: true }).compile(schema)(data);
  return data;
}

/** Every setting: objects with `properties` are sections, anything else is a leaf (maps included). */
export function configLeaves(schema, path = []) {
  if (schema.type === 'object' && schema.properties !== undefined)
    return Object.entries(schema.properties).flatMap(([key, sub]) => configLeaves(sub, [...path, key]));
  return [{ path, schema }];
}

async function format(text, filepath) {
  const options = (await prettier.resolveConfig(filepath)) ?? {};
  return prettier.format(text, { ...options, filepath });
}

async function valuesYaml() {
  const current = read('helm/classops/values.yaml');
  const at = current.indexOf(VALUES_MARKER);
  if (at === -1) throw new Error(`helm/classops/values.yaml lost its marker line "${VALUES_MARKER}"`);
  const head = current.slice(0, current.indexOf('\n', at) + 1);
  const schema = configSchema();
  const doc = new Document({ config: configDefaults(schema) });
  // Each setting carries its schema description, so values.yaml reads like the reference.
  const describe = (node, sub) => {
    for (const pair of node?.items ?? []) {
      const s = sub.properties?.[pair.key.value];
      if (s === undefined) continue;
      if (s.description !== undefined) pair.key.commentBefore = ` ${s.description}`;
      if (s.properties !== undefined) describe(pair.value, s);
    }
  };
  describe(doc.get('config'), schema);
  return format(`${head}${doc.toString({ lineWidth: 0 })}`, `${CHART}/values.yaml`);
}

async function valuesSchema() {
  const current = JSON.parse(read('helm/classops/values.schema.json'));
  const { $schema: _s, $id: _i, title: _t, ...config } = configSchema();
  current.properties.config = { ...config, description: 'classops.yaml: schemas/config.schema.json, copied.' };
  return format(JSON.stringify(current), `${CHART}/values.schema.json`);
}

const cell = (text) =>
  String(text)
    .replaceAll('|', '\\|')
    .replaceAll(/\s*\n\s*/g, ' ');

/** `text` with what lies between the markers `start` and `end` replaced by `content`. */
function between(text, start, end, content) {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to < from) throw new Error(`README.md lost its markers ${start} … ${end}`);
  return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

/**
 * The comment pr-report posts for the README's sample pull request: analopez adds her own
 * entry and, by mistake, one for bochen whose image has neither registry nor tag. Made by
 * the real `classops validate` on a real git repository, so the README cannot drift from it.
 */
function prCommentSample() {
  const repo = mkdtempSync(join(tmpdir(), 'classops-sample-'));
  try {
    const git = (...args) =>
      execFileSync('git', ['-c', 'user.name=sample', '-c', 'user.email=sample@example.com', ...args], { cwd: repo });
    const header =
      'apiVersion: container-course.ziyotek.edu/v1\nkind: StudentSubmissions\nmetadata:\n  week: 1\nstudents:\n';
    const entry = (name, login, image) =>
      `  - name: "${name}"\n    github_username: "${login}"\n    container_image: "${image}"\n`;
    const base = header + entry('Jared Gore', 'jlgore', 'ghcr.io/jlgore/container-course-student:v1');
    mkdirSync(join(repo, 'students'));
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'students/week-01.yaml'), base);
    git('add', '-A');
    git('commit', '-qm', 'base');
    const added = entry('Ana Lopez', 'analopez', 'ghcr.io/analopez/container-course-student:v1');
    writeFileSync(join(repo, 'students/week-01.yaml'), base + added + entry('Bo Chen', 'bochen', 'bochen/app'));
    git('commit', '-qam', 'add analopez');
    const args = ['validate', 'students', '--changed-since', 'main~1', '--author', 'analopez', '--format', 'json'];
    const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    // Exit 1: the sample has errors, which is its point.
    const json = (() => {
      try {
        return execFileSync(process.execPath, [cli, ...args], { cwd: repo, encoding: 'utf8' });
      } catch (error) {
        if (error.status === 1) return error.stdout;
        throw error;
      }
    })();
    const comment = formatComment(readReport(json)).trimEnd();
    return comment
      .split('\n')
      .map((line) => (line === '' ? '>' : `> ${line}`))
      .join('\n');
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

async function readme() {
  const current = read('README.md');
  const rows = configLeaves(configSchema()).map(({ path, schema }) => {
    const type = schema.enum !== undefined ? schema.enum.join(' \\| ') : schema.type;
    return `| \`${path.join('.')}\` | ${type} | \`${cell(JSON.stringify(schema.default))}\` | \`${envName(path)}\` | ${cell(schema.description ?? '')} |`;
  });
  const table = [
    '| setting | type | default | environment variable | meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  return between(between(current, TABLE_START, TABLE_END, table), SAMPLE_START, SAMPLE_END, prCommentSample());
}

async function manifests(files) {
  const docs = renderChart(CHART, { values: { namespace: { create: true } }, files });
  const head = [
    '# classops in a cluster: helm/classops rendered with its default values (and namespace.create).',
    '# Generated by `npm run generate`: change the chart, not this file. Set the image and',
    '# config.source (kind: git, url) in the ConfigMap, then kubectl apply -f manifests/classops.yaml.',
  ].join('\n');
  return format(`${head}\n${toManifest(docs)}`, `${ROOT}manifests/classops.yaml`);
}

/** Every generated file with the content it must have, in the order they depend on each other. */
export async function generatedFiles() {
  const out = [];
  const files = {};
  for (const name of ['grafana-dashboard.json', 'prometheus-rules.yaml']) {
    files[`files/${name}`] = read(`monitoring/${name}`);
    out.push({ path: `helm/classops/files/${name}`, content: files[`files/${name}`] });
  }
  files['values.yaml'] = await valuesYaml();
  out.push({ path: 'helm/classops/values.yaml', content: files['values.yaml'] });
  out.push({ path: 'helm/classops/values.schema.json', content: await valuesSchema() });
  out.push({ path: 'README.md', content: await readme() });
  out.push({ path: 'manifests/classops.yaml', content: await manifests(files) });
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { path, content } of await generatedFiles()) {
    const before = (() => {
      try {
        return read(path);
      } catch {
        return undefined;
      }
    })();
    if (before === content) continue;
    writeFileSync(`${ROOT}${path}`, content);
    console.log(`wrote ${path}`);
  }
}
