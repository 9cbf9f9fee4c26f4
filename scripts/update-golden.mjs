// Rewrites test/fixtures/golden/ from the bundled sample roster. Run after an intended
// change to rendering, then read the diff: it is what every course's cluster will see.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../dist/config.js';
import { validateRoster } from '../dist/roster/validate.js';
import { interpretReports } from '../dist/pipeline/interpret.js';
import { objectsToYaml } from '../dist/render/serialize.js';
import { weekObjects } from '../dist/render/tree.js';

const modes = {
  ingress: {},
  httproute: { routing: { mode: 'httproute' } },
  traefik: { routing: { rewrite: 'traefik', ingressClassName: 'traefik' } },
};
const sample = readFileSync(new URL('../students/week-01.yaml', import.meta.url));
for (const [name, render] of Object.entries(modes)) {
  const config = loadConfig({ env: {}, overrides: { render } });
  const report = validateRoster('students/week-01.yaml', sample, config.policy);
  const { desired } = interpretReports([report], new Map(), config, { revision: 'abc123', lastGood: new Map() });
  const week = desired.weeks[0];
  writeFileSync(
    new URL(`../test/fixtures/golden/sample-${name}.yaml`, import.meta.url),
    objectsToYaml(weekObjects(week)),
  );
  console.log(`wrote test/fixtures/golden/sample-${name}.yaml`);
}
