/**
 * Independent checks of what the golden files carry. The goldens are written by the code
 * they check (npm run golden), so they only detect change; these tests recompute the
 * spec hash and the entry annotations with their own code, from the roster as a student
 * wrote it, and compare.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config.js';
import type { KubeObject } from '../../src/render/objects.js';
import { weekObjects } from '../../src/render/tree.js';
import { renderReport } from '../support/rosters.js';
import { validateRoster } from '../../src/roster/validate.js';

const SPEC_HASH = 'classops.dev/spec-hash';
const REVISION = 'classops.dev/source-revision';
const SAMPLE = readFileSync(new URL('../../students/week-01.yaml', import.meta.url));
const MODES: Array<[string, Record<string, unknown>]> = [
  ['ingress', {}],
  ['httproute', { routing: { mode: 'httproute' } }],
  ['traefik', { routing: { rewrite: 'traefik', ingressClassName: 'traefik' } }],
];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The spec hash as the README defines it: the object without its revision (and without the hash itself). */
function specHashOf(object: KubeObject): string {
  const annotations = { ...object.metadata.annotations };
  delete annotations[SPEC_HASH];
  delete annotations[REVISION];
  return sha256(JSON.stringify({ ...object, metadata: { ...object.metadata, annotations } })).slice(0, 32);
}

/** JSON with keys sorted at every level: this test's own canonical form. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function render(revision: string, overrides: Record<string, unknown>): KubeObject[] {
  const config = loadConfig({ env: {}, overrides: { render: overrides } });
  const week = renderReport(validateRoster('students/week-01.yaml', SAMPLE, config.policy), config, revision);
  if (week === undefined) throw new Error('the sample roster did not render');
  return weekObjects(week);
}

function golden(name: string): KubeObject[] {
  const text = readFileSync(new URL(`../fixtures/golden/sample-${name}.yaml`, import.meta.url), 'utf8');
  return parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
}

const idOf = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

describe.each(MODES)('golden file sample-%s.yaml, checked independently', (name, overrides) => {
  test('every spec hash is the hash of the object without its revision', () => {
    const rendered = render('abc123', overrides);
    const files = new Map(golden(name).map((o) => [idOf(o), o]));
    expect(rendered.map(idOf).sort()).toEqual([...files.keys()].sort());
    for (const object of rendered) {
      const hash = specHashOf(object);
      expect(`${idOf(object)} ${object.metadata.annotations?.[SPEC_HASH]}`).toBe(`${idOf(object)} ${hash}`);
      expect(`${idOf(object)} ${files.get(idOf(object))?.metadata.annotations?.[SPEC_HASH]}`).toBe(
        `${idOf(object)} ${hash}`,
      );
    }
  });

  test('the spec hash ignores the revision, and nothing else', () => {
    const a = render('abc123', overrides);
    const b = render('0123456789abcdef0123456789abcdef01234567', overrides);
    expect(b.map((o) => o.metadata.annotations?.[SPEC_HASH])).toEqual(
      a.map((o) => o.metadata.annotations?.[SPEC_HASH]),
    );
    expect(b.map((o) => o.metadata.annotations?.[REVISION])).not.toEqual(
      a.map((o) => o.metadata.annotations?.[REVISION]),
    );
    const deployment = a.find((o) => o.kind === 'Deployment')!;
    const changed = {
      ...deployment,
      metadata: { ...deployment.metadata, labels: { ...deployment.metadata.labels, x: 'y' } },
    };
    expect(specHashOf(changed)).not.toBe(deployment.metadata.annotations?.[SPEC_HASH]);
  });

  test('each Deployment carries the entry as the student wrote it, with the documented defaults', () => {
    // The roster read with a plain YAML parser, not classops': defaults from the README.
    const students = (parse(SAMPLE.toString('utf8')) as { students: Array<Record<string, unknown>> }).students;
    const expected = students.map((s) => ({
      name: s['name'],
      githubUsername: s['github_username'],
      containerImage: s['container_image'],
      studentEndpoint: s['student_endpoint'] ?? '/student',
      healthEndpoint: s['health_endpoint'] ?? '/health',
      port: s['port'] ?? 5000,
    }));
    // The golden file, and what renders now (so a regenerated golden cannot hide a fault).
    for (const objects of [golden(name), render('abc123', overrides)]) {
      const deployments = objects.filter((o) => o.kind === 'Deployment');
      const entries = deployments.map((d) => JSON.parse(d.metadata.annotations!['classops.dev/entry']!) as unknown);
      expect(entries).toEqual(expect.arrayContaining(expected));
      expect(entries).toHaveLength(expected.length);
      for (const d of deployments) {
        const entry = JSON.parse(d.metadata.annotations!['classops.dev/entry']!) as Record<string, unknown>;
        // The annotation is canonical JSON (sorted keys), and the entry hash is its hash.
        expect(d.metadata.annotations!['classops.dev/entry']).toBe(sortedJson(entry));
        expect(d.metadata.annotations!['classops.dev/entry-hash']).toBe(sha256(sortedJson(entry)).slice(0, 32));
        expect(d.metadata.labels?.['classops.dev/student']).toBe(String(entry['githubUsername']).toLowerCase());
      }
    }
  });
});
