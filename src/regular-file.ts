/** Reading a file someone else may have planted: only a regular file, and only up to a size. */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** What a file that is not a regular one is, in plain words. */
function kindOf(stat: Stats): string {
  if (stat.isDirectory()) return 'a folder';
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'not a file';
}

/** Why a file of `size` bytes is not read, in the words every reader of planted files uses. */
export const overLimit = (size: number, maxBytes: number): string =>
  `it is ${size} bytes, more than the ${maxBytes} allowed`;

/** Which file a path led to when it was looked at: what is opened later must be the same one. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The bytes of `file` (links followed), refused with a plain reason when it is not a regular
 * file or holds more than `maxBytes`. A named pipe is opened without waiting for a writer,
 * and the size a file reports is not trusted as the bound: /proc files report 0. With
 * `expected`, a file other than the one looked at before (swapped for a link since) is refused.
 */
export function readRegularFile(file: string, maxBytes: number, expected?: FileIdentity): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    // A socket cannot be opened at all, so fstat never gets to say what it is.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO') throw new Error('it is a socket, not a regular file');
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (expected !== undefined && (stat.dev !== expected.dev || stat.ino !== expected.ino))
      throw new Error('it changed while classops was reading the folder; the next pass reads it again');
    if (!stat.isFile()) throw new Error(`it is ${kindOf(stat)}, not a regular file`);
    if (stat.size > maxBytes) throw new Error(overLimit(stat.size, maxBytes));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // One read for a file as large as it says, and one more to see its end.
      const chunk = Buffer.allocUnsafe(Math.min(maxBytes + 1 - total, Math.max(stat.size + 1 - total, 64 * 1024)));
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) return Buffer.concat(chunks, total);
      chunks.push(chunk.subarray(0, read));
      total += read;
      if (total > maxBytes) throw new Error(`it holds more than the ${maxBytes} bytes allowed`);
    }
  } finally {
    closeSync(fd);
  }
}
