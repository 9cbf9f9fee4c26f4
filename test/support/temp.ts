/**
 * Temporary folders for tests, removed after each test file: every folder a test or a
 * support class makes goes through tempDir(), and test/cleanup.ts removes them
 * all in an afterAll that Jest registers for every test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();

/** A new empty folder under the system temp folder, removed when the test file ends. */
export function tempDir(prefix = 'classops-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes every folder tempDir() made so far; processes still writing there get ENOTEMPTY retries. */
export function removeTempDirs(): void {
  for (const dir of made) {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    made.delete(dir);
  }
}

/** How many folders are waiting for removal (for the test of this helper). */
export function pendingTempDirs(): readonly string[] {
  return [...made];
}
