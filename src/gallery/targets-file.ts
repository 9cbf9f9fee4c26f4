/**
 * Static targets, as Prometheus' file_sd: a JSON array of {github_username, url, name?, week?}
 * checked by schemas/gallery-targets.schema.json. Re-read when the file changes; a bad
 * file at start is an error, a bad file later is a warning and the old targets stay.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../observability/log.js';
import { readRegularFile } from '../regular-file.js';
import { schemaValidator } from '../schemas.js';
import type { GalleryTarget, TargetSource } from './targets.js';

const MAX_FILE_BYTES = 4 * 1024 * 1024;

export class TargetsFileError extends Error {
  override readonly name = 'TargetsFileError';
}

interface FileEntry {
  github_username: string;
  url: string;
  name?: string;
  week?: number;
}

/** Reads and checks a targets file; throws TargetsFileError saying what is wrong and where. */
export function readTargetsFile(file: string): GalleryTarget[] {
  let text: string;
  try {
    text = readRegularFile(file, MAX_FILE_BYTES).toString('utf8');
  } catch (error) {
    throw new TargetsFileError(`cannot read targets file ${file}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new TargetsFileError(`targets file ${file} is not JSON: ${(error as Error).message}`);
  }
  const validate = schemaValidator('gallery-targets', { useDefaults: false });
  if (!validate(data)) {
    const problems = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}`);
    throw new TargetsFileError(
      `targets file ${file} must be a JSON array of {"github_username", "url", "name"?, "week"?}: ${problems.join('; ')}`,
    );
  }
  const seen = new Set<string>();
  return (data as FileEntry[]).map((entry, index) => {
    const login = entry.github_username.toLowerCase();
    if (seen.has(login))
      throw new TargetsFileError(`targets file ${file}: /${index} repeats "${entry.github_username}"`);
    seen.add(login);
    return {
      key: `file/${login}`,
      githubUsername: entry.github_username,
      name: entry.name,
      week: entry.week,
      url: entry.url,
      known: undefined,
    };
  });
}

export class FileTargets implements TargetSource {
  readonly description: string;
  private targets: readonly GalleryTarget[];
  private readonly watcher: FSWatcher;
  private timer: NodeJS.Timeout | undefined;

  /** Throws TargetsFileError when the file is missing or invalid at start. */
  constructor(
    private readonly file: string,
    private readonly log: Logger,
    private readonly onChange: () => void = () => undefined,
  ) {
    this.file = resolve(file);
    this.description = `targets file ${this.file}`;
    this.targets = readTargetsFile(this.file);
    // Watch the folder, not the file: editors and `mv` replace the file, which ends a watch on it.
    this.watcher = watch(dirname(this.file), (_event, name) => {
      if (name !== null && name !== basename(this.file)) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), 100);
    });
    this.watcher.on('error', (error) => this.log.warn('cannot watch the targets file', { error: error.message }));
  }

  private reload(): void {
    try {
      this.targets = readTargetsFile(this.file);
      this.log.info('targets file re-read', { file: this.file, targets: this.targets.length });
      this.onChange();
    } catch (error) {
      this.log.warn('targets file is invalid; keeping the previous targets', {
        file: this.file,
        error: (error as Error).message,
        targets: this.targets.length,
      });
    }
  }

  current(): readonly GalleryTarget[] {
    return this.targets;
  }

  loaded(): boolean {
    return true;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher.close();
  }
}
