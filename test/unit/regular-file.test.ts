/**
 * readRegularFile, which reads files someone else may have planted (the config, the
 * gallery's targets, a stage-1 report, every roster file): what it refuses, and that the
 * size a file reports is never trusted as the bound.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegularFile } from '../../src/regular-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'classops-regular-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (file: string, maxBytes: number) => {
  try {
    readRegularFile(file, maxBytes);
  } catch (error) {
    return (error as Error).message;
  }
  return 'read';
};

test('a regular file up to the limit is read whole; one byte more is refused with its size', () => {
  writeFileSync(join(dir, 'a.yaml'), 'x'.repeat(100));
  expect(readRegularFile(join(dir, 'a.yaml'), 100).toString()).toBe('x'.repeat(100));
  expect(refusal(join(dir, 'a.yaml'), 99)).toBe('it is 100 bytes, more than the 99 allowed');
});

test('a named pipe is refused without waiting for a writer; a folder and a device are refused too', () => {
  execFileSync('mkfifo', [join(dir, 'pipe')]);
  expect(refusal(join(dir, 'pipe'), 100)).toBe('it is a named pipe (FIFO), not a regular file');
  expect(refusal(dir, 100)).toBe('it is a folder, not a regular file');
  expect(refusal('/dev/zero', 100)).toBe('it is a device, not a regular file');
});

test('a file that says it is empty but is not (as /proc files do) is read only up to the limit', () => {
  // /proc/self/maps reports size 0 and holds several KiB.
  expect(refusal('/proc/self/maps', 100)).toBe('it holds more than the 100 bytes allowed');
  expect(readRegularFile('/proc/self/maps', 1024 * 1024).length).toBeGreaterThan(100);
});
