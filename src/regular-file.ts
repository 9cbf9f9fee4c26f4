/** Reading a file someone else may have planted: only a regular file, and only up to a size. */
import { readFileSync, statSync } from 'node:fs';

/**
 * The bytes of `file`, refused with a plain reason when it is not a regular file (a FIFO
 * would block the process, a link to /dev/zero would be read for ever) or is over `maxBytes`.
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  const stat = statSync(file);
  if (!stat.isFile()) throw new Error('it is not a regular file');
  if (stat.size > maxBytes) throw new Error(`it is larger than ${maxBytes} bytes`);
  return readFileSync(file);
}
