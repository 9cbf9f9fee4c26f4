// Rewrites test/fixtures/golden/ from the bundled sample roster. Run after an intended
// change to rendering, then read the diff: it is what every course's cluster will see.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../dist/config.js';
import { validateRoster } from '../dist/roster/validate.js';
import { renderWeek } from '../dist/render/week.js';
import { objectsToYaml } from '../dist/render/serialize.js';

const modes = {
  ingress: {},
  httproute: { routing: { mode: 'httproute' } },
  traefik: { routing: { rewrite: 'traefik', ingressClassName: 'traefik' } },
};
const sample = readFileSync(new URL('../students/week-01.yaml', import.meta.url));
for (const [name, render] of Object.entries(modes)) {
  const config = loadConfig({ env: {}, overrides: { render } });
  const week = renderWeek(validateRoster('students/week-01.yaml', sample, config.policy), config, {
    revision: 'abc123',
  });
  writeFileSync(
    new URL(`../test/fixtures/golden/sample-${name}.yaml`, import.meta.url),
    objectsToYaml([...week.shared, ...week.students.flatMap((s) => s.objects)]),
  );
  console.log(`wrote test/fixtures/golden/sample-${name}.yaml`);
}
