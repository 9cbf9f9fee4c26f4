/**
 * The jest set-up for `npm run mutate`: only the tests that judge the mutated area
 * (STRYKER_TESTS, see stryker.areas.mjs), so a run on src/registry/ starts no controller.
 */
import base from './jest.config.js';
import { AREAS, chosenArea } from './stryker.areas.mjs';

const area = chosenArea();

export default {
  ...base,
  testMatch: [...new Set(area === undefined ? Object.values(AREAS).flatMap((a) => a.tests) : AREAS[area].tests)],
};
