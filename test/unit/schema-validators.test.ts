/**
 * The validators `npm run build` compiles ahead of time (ajv standalone code in
 * dist/validators/) must judge every document exactly as the schema compiled at run time
 * does: same verdict, same errors, same defaults filled in.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parseAllDocuments } from 'yaml';
import { VALIDATORS, ajvOptions, compiledValidatorFile, loadSchema, type SchemaName } from '../../src/schemas.js';
import { FIXTURES } from '../support/rosters.js';

const COMPILED = fileURLToPath(new URL('../../dist/validators/', import.meta.url));
const requireCjs = createRequire(import.meta.url);

/** Rosters: every fixture case and the bundled sample, plus a few shapes the fixtures do not reach. */
function rosterDocuments(): unknown[] {
  const files = [
    ...readdirSync(FIXTURES).map((name) => `${FIXTURES}${name}/week-01.yaml`),
    fileURLToPath(new URL('../../students/week-01.yaml', import.meta.url)),
  ];
  const docs = files.flatMap((file) => {
    try {
      return parseAllDocuments(readFileSync(file, 'utf8')).flatMap((d) =>
        'toJS' in d ? [d.toJS({ maxAliasCount: 10 }) as unknown] : [],
      );
    } catch {
      return []; // fixtures that are not YAML at all (bad bytes, alias bombs) never reach the schema
    }
  });
  return [...docs, null, [], 'text', { students: 'x' }, { apiVersion: 1, kind: [], metadata: { week: 'x' } }];
}

function configDocuments(): unknown[] {
  return [
    {},
    { course: 'Bad Course' },
    { registry: { concurrencyPerRegistry: 0, timeout: 'soon', plainHttp: 'x' } },
    { policy: { allowedRegistries: ['ghcr.io'], limits: { maxEntries: -1 } }, surprise: true },
    { cluster: { leaderElection: { enabled: 'yes' } }, render: { routing: { mode: 'gateway' } } },
    { gallery: { port: 70000 }, github: { statuses: true, apiUrl: 'https://api.github.com' } },
    { render: { quota: { pods: '20' }, resources: { limits: { cpu: '1', memory: '1Gi' } } } },
  ];
}

function galleryTargetDocuments(): unknown[] {
  return [
    [],
    [{ github_username: 'ann', url: 'http://127.0.0.1:5000/student' }],
    [{ github_username: 'ann', url: 'http://127.0.0.1:5000/student', name: 'Ann', week: 2 }],
    [{ github_username: 'ann' }],
    [{ github_username: 'ann', url: 'http://x/student', surprise: true }],
    { github_username: 'ann', url: 'http://x/student' },
    [{ github_username: 7, url: 'http://x/student', week: 'two' }],
  ];
}

const documentsFor: Record<SchemaName, () => unknown[]> = {
  roster: rosterDocuments,
  config: configDocuments,
  'gallery-targets': galleryTargetDocuments,
};

describe.each(VALIDATORS)('the precompiled $name validator (useDefaults $options.useDefaults)', ({ name, options }) => {
  const file = `${COMPILED}${compiledValidatorFile(name, options)}`;

  test('is made by the build', () => {
    expect(existsSync(file)).toBe(true);
  });

  test('agrees with the schema compiled at run time on every document', () => {
    const precompiled = requireCjs(file) as ValidateFunction;
    const atRunTime = new Ajv2020(ajvOptions(options)).compile(loadSchema(name));
    const documents = documentsFor[name]();
    expect(documents.length).toBeGreaterThan(5);
    let invalid = 0;
    for (const document of documents) {
      const a = structuredClone(document);
      const b = structuredClone(document);
      const verdict = precompiled(a);
      expect(verdict).toBe(atRunTime(b));
      expect(precompiled.errors ?? null).toEqual(atRunTime.errors ?? null);
      expect(a).toEqual(b); // defaults filled in identically
      if (!verdict) invalid += 1;
    }
    // Both kinds were exercised.
    expect(invalid).toBeGreaterThan(0);
    expect(invalid).toBeLessThan(documents.length);
  });
});
