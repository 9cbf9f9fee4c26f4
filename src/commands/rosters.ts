/** Reading roster files for the commands that take paths: what `validate` and `render` start with. */
import { readFileSync } from 'node:fs';
import type { ClassopsConfig } from '../config.js';
import type { ImageVerifier } from '../pipeline/interpret.js';
import { ImageChecker } from '../registry/checker.js';
import type { RosterListing } from '../source/dir.js';

/** Each listed file's bytes, by path, in the order given, and the paths the listing refused. */
export function readRosterFiles(listing: RosterListing): {
  files: Map<string, Buffer>;
  unreadable: ReadonlyMap<string, string>;
} {
  return { files: new Map(listing.files.map((file) => [file, readFileSync(file)])), unreadable: listing.problems };
}

/** File texts by name, for showing the offending line under a finding. */
export function sourcesOf(files: ReadonlyMap<string, Buffer>): Map<string, string> {
  return new Map([...files].map(([file, bytes]) => [file, bytes.toString('utf8')]));
}

/** The image checker, when the command was asked to check images. */
export function imageCheckerFor(config: ClassopsConfig, check: boolean | undefined): ImageVerifier | undefined {
  return check ? new ImageChecker(config.registry) : undefined;
}
