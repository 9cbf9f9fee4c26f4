/** Loaded by Jest before every test file (setupFilesAfterEnv): what tests made is removed at the end. */
import { removeTempDirs } from './support/temp.js';

afterAll(() => {
  removeTempDirs();
});
