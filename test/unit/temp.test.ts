import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pendingTempDirs, removeTempDirs, tempDir } from '../support/temp.js';

describe('temporary folders of tests', () => {
  test('tempDir folders, with what is in them, are gone after removeTempDirs', () => {
    const dir = tempDir('classops-temp-test-');
    writeFileSync(join(dir, 'file.txt'), 'x');
    expect(pendingTempDirs()).toContain(dir);
    removeTempDirs();
    expect(existsSync(dir)).toBe(false);
    expect(pendingTempDirs()).toEqual([]);
  });
});
