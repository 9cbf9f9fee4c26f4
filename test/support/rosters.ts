/** Helpers for roster tests: fixtures on disk and the default policy. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, type ClassopsConfig, type PolicyConfig } from '../../src/config.js';
import { interpretReports } from '../../src/pipeline/interpret.js';
import type { Verdict } from '../../src/registry/verdict.js';
import type { RenderedWeek } from '../../src/render/week.js';
import type { RosterReport } from '../../src/roster/model.js';
import { validateRoster } from '../../src/roster/validate.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/rosters/', import.meta.url));

export function defaultPolicy(overrides: Record<string, unknown> = {}): PolicyConfig {
  return loadConfig({ env: {}, overrides: { policy: overrides } }).policy;
}

export function fixturePath(name: string): string {
  return `${FIXTURES}${name}/week-01.yaml`;
}

/** Validates a fixture as the CLI would, naming it by its case for readable failures. */
export function validateFixture(name: string, policy = defaultPolicy()): RosterReport {
  return validateRoster(`${name}/week-01.yaml`, readFileSync(fixturePath(name)), policy);
}

/** A roster file's text from a header and entries, for tests that build their own. */
export function rosterText(entries: string, week = 1): string {
  return `apiVersion: container-course.ziyotek.edu/v1\nkind: StudentSubmissions\nmetadata:\n  week: ${week}\nstudents:\n${entries}`;
}

/** Pullable verdicts for images with known digests, as the registry check would give them. */
export function pullable(digests: ReadonlyMap<string, string>): Map<string, Verdict> {
  return new Map(
    [...digests].map(([image, digest]) => [
      image,
      { kind: 'pullable', digest, mediaType: 'application/vnd.oci.image.index.v1+json', platforms: ['linux/amd64'] },
    ]),
  );
}

/** The week one validated roster renders to through the pipeline (no last-known-good), or undefined. */
export function renderReport(
  report: RosterReport,
  config: ClassopsConfig,
  revision = 'abc123',
  digests: ReadonlyMap<string, string> = new Map(),
): RenderedWeek | undefined {
  return interpretReports([report], pullable(digests), config, { revision, lastGood: new Map() }).desired!.weeks[0];
}
