/**
 * The embedded default's "cluster": a folder with one YAML file per object
 * (`<namespace>/<kind>-<name>.yaml`, cluster-wide objects in `_cluster/`). The reconciler
 * treats it exactly as a cluster, with the same guard and last-known-good rules.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { Dirent } from 'node:fs';
import { hash } from 'node:crypto';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { LABEL, MANAGED_BY } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import { toYaml } from '../render/serialize.js';
import { outputFolderProblem } from '../output-folder.js';
import { processRuns } from '../process-alive.js';
import { ClusterError } from './kube.js';
import { describeRef, type ObjectRef, type StudentHealth, type Target } from './target.js';

/** Marks a folder `classops run` keeps; any other non-empty folder is never written into. */
export const MANIFESTS_MARKER = '.classops-manifests';
/** What classops last wrote to each file: its hash and the object, so unchanged files need no parsing. */
const INDEX_FILE = '.classops-index.json';

interface IndexEntry {
  readonly hash: string;
  readonly object: KubeObject;
}
type Index = Map<string, IndexEntry>;

const digest = (bytes: Buffer) => hash('sha256', bytes, 'hex');

/**
 * Writes `text` to `temporary`, then renames it to `path`: readers never see half a file.
 * The temporary file is made new (a link planted under its name is removed, not followed),
 * and a failure leaves none behind.
 */
function writeWhole(path: string, temporary: string, text: string): void {
  rmSync(temporary, { force: true });
  try {
    writeFileSync(temporary, text, { flag: 'wx' });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** A folder's entries by name, none for a folder that is not there. */
function safeReaddir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return [];
  }
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KIND = /^[A-Za-z]+$/;
/** The names writeWhole gives: `<file>.tmp-<pid>` for the marker and the index, `.tmp-<pid>` in a namespace folder. */
const TEMPORARY = /^(?:\.classops-manifests|\.classops-index\.json)?\.tmp-(\d{1,10})$/;
/** No write of a file takes this long: a temporary file unchanged this long is not being written. */
const TEMPORARY_SETTLED_MS = 60_000;
/** A temporary file this old is a killed process's whatever its pid says (the pid reused since). */
const TEMPORARY_MAX_AGE_MS = 3_600_000;
/** The longest file name (in bytes) that Linux file systems take. */
const MAX_FILE_NAME = 255;

export class DirectoryTarget implements Target {
  readonly description: string;
  readonly exact = true;
  private readonly root: string;
  private marked = false;
  private index: Index | undefined;
  private indexChanged = false;
  /** Objects listed from the index because their file's bytes are what was written. */
  private readonly unchanged = new WeakSet<KubeObject>();
  /** Objects parsed from their file this pass, with where they came from: indexed once found up to date. */
  private parsed = new WeakMap<KubeObject, { path: string; hash: string }>();
  /** Objects whose file is not in the form classops writes: rewritten whatever their fields say. */
  private readonly reformatted = new WeakSet<KubeObject>();
  /** The YAML files of the last listing, with this pass's writes and removals: what health reads. */
  private files: Set<string> | undefined;

  constructor(private readonly dir: string) {
    this.description = `folder ${dir}`;
    this.root = resolve(dir);
    const problem = outputFolderProblem(dir);
    if (problem !== undefined)
      throw new ClusterError(`cluster.manifestsDir ${JSON.stringify(dir)}: ${problem}`, undefined);
    if (existsSync(this.root) && readdirSync(this.root).length > 0 && !existsSync(join(this.root, MANIFESTS_MARKER)))
      throw new ClusterError(
        `refusing to manage ${dir}: it is not empty and was not made by "classops run" (set cluster.manifestsDir to an empty or new folder)`,
        undefined,
      );
  }

  /** The file of an object; names are checked here too, so no object content can lead outside the folder. */
  private pathOf(ref: ObjectRef): string {
    const namespace = ref.namespace ?? '_cluster';
    if (
      !KIND.test(ref.kind) ||
      !(NAME.test(ref.name) && ref.name.length <= 253) ||
      !(ref.namespace === undefined || NAMESPACE.test(ref.namespace))
    )
      throw new ClusterError(`refusing to write ${describeRef(ref)}: not a valid Kubernetes name`, undefined);
    const file = `${ref.kind.toLowerCase()}-${ref.name}.yaml`;
    if (Buffer.byteLength(file) > MAX_FILE_NAME)
      throw new ClusterError(
        `refusing to write ${describeRef(ref)}: its file name would be longer than the ${MAX_FILE_NAME} bytes a file system allows`,
        undefined,
      );
    const path = join(this.root, namespace, file);
    if (!path.startsWith(this.root + sep)) throw new ClusterError(`refusing to write outside ${this.dir}`, undefined);
    return path;
  }

  /**
   * Every object in the folder. A file whose bytes are what classops last wrote is taken
   * from the index (no YAML parsing: a no-op pass over a thousand students stays fast);
   * any other file is parsed, so a hand edit is drift like any other. A parsed file that is
   * not byte for byte in the form classops writes is drift too: YAML readers differ on such
   * text (`containerPort: 05000` is 5000 to this parser and 2560 to YAML 1.1 readers such as
   * kubectl's; a byte that is not UTF-8 is U+FFFD to this decoder and an error to others),
   * where the form classops writes reads the same in all of them.
   */
  async listManaged(): Promise<KubeObject[]> {
    const index = this.loadIndex();
    const seen: Index = new Map();
    const objects: KubeObject[] = [];
    this.parsed = new WeakMap();
    const { yaml, temporaries } = this.walk();
    this.clearTemporaries(temporaries);
    this.files = new Set(yaml);
    for (const path of this.files) {
      const bytes = readFileSync(path);
      const bytesHash = digest(bytes);
      const known = index.get(path);
      const text = known?.hash === bytesHash ? undefined : bytes.toString('utf8');
      let object: KubeObject | null;
      try {
        object = text === undefined ? known!.object : (parse(text) as KubeObject | null);
      } catch {
        continue; // not YAML any more: not something classops manages
      }
      if (object?.metadata?.labels?.[LABEL.managedBy] !== MANAGED_BY || !this.isFileOf(path, object)) continue;
      objects.push(object);
      if (text === undefined) {
        seen.set(path, known!);
        this.unchanged.add(object);
      } else if (bytes.equals(Buffer.from(toYaml(object)))) {
        this.parsed.set(object, { path, hash: bytesHash });
      } else {
        this.reformatted.add(object);
      }
    }
    this.index = seen;
    return objects;
  }

  writtenAsIs(object: KubeObject): boolean {
    return this.unchanged.has(object);
  }

  needsRewrite(object: KubeObject): boolean {
    return this.reformatted.has(object);
  }

  /**
   * The file of an object to write or remove, in a namespace folder that is not a link:
   * through one, a write or a removal would land outside the folder (the listing skips them).
   */
  private writablePathOf(ref: ObjectRef): string {
    const path = this.pathOf(ref);
    if (lstatSync(dirname(path), { throwIfNoEntry: false })?.isSymbolicLink() === true)
      throw new ClusterError(
        `refusing to write ${describeRef(ref)}: ${relative(this.root, dirname(path))} is a symbolic link`,
        undefined,
      );
    return path;
  }

  async apply(object: KubeObject): Promise<void> {
    const path = this.writablePathOf({ ...object, namespace: object.metadata.namespace, name: object.metadata.name });
    mkdirSync(dirname(path), { recursive: true });
    if (!this.marked) {
      const marker = join(this.root, MANIFESTS_MARKER);
      writeWhole(
        marker,
        `${marker}.tmp-${process.pid}`,
        'Kept by classops run: files here are replaced and removed.\n',
      );
      this.marked = true;
    }
    const text = toYaml(object);
    // A short name of its own: the object's file name may already be as long as a name can be.
    writeWhole(path, join(dirname(path), `.tmp-${process.pid}`), text);
    this.files?.add(path);
    this.loadIndex().set(path, { hash: digest(Buffer.from(text)), object });
    this.indexChanged = true;
  }

  async remove(ref: ObjectRef): Promise<void> {
    const path = this.writablePathOf(ref);
    rmSync(path, { force: true });
    this.files?.delete(path);
    this.indexChanged = this.loadIndex().delete(path) || this.indexChanged;
  }

  /** Only the file an object's own name leads to is that object; a stray copy is not classops'. */
  private isFileOf(path: string, object: KubeObject): boolean {
    try {
      return this.pathOf({ ...object, namespace: object.metadata.namespace, name: object.metadata.name }) === path;
    } catch {
      return false;
    }
  }

  /**
   * Saves the index once per pass, after the writes. A file that had to be parsed but holds
   * just what is desired (in the form classops writes, and compared field by field both
   * ways: a folder adds nothing) joins it, so files written by a process killed before it
   * saved the index are parsed once, not on every pass.
   */
  async finishPass(upToDate: readonly KubeObject[] = []): Promise<void> {
    const index = this.loadIndex();
    for (const object of upToDate) {
      const file = this.parsed.get(object);
      if (file === undefined) continue;
      index.set(file.path, { hash: file.hash, object });
      this.indexChanged = true;
    }
    if (!this.indexChanged) return;
    const entries = Object.fromEntries([...index].map(([path, e]) => [relative(this.root, path), e]));
    try {
      writeWhole(this.indexFile, `${this.indexFile}.tmp-${process.pid}`, JSON.stringify(entries));
    } catch (error) {
      throw new ClusterError(
        `could not save ${this.indexFile} (${(error as Error).message}): the object files are in place; the next pass tries again, and a restarted classops parses them instead of trusting the index`,
        undefined,
      );
    }
    this.indexChanged = false;
  }

  /** Rendered, for every Deployment file (as the pass left the folder, not read again): a folder runs nothing. */
  async health(): Promise<Map<string, StudentHealth>> {
    const health = new Map<string, StudentHealth>();
    for (const path of this.files ?? this.walk().yaml) {
      const student = /^deployment-student-(.+)\.yaml$/.exec(basename(path))?.[1];
      if (student !== undefined)
        health.set(`${basename(dirname(path))}/${student}`, { phase: 'Rendered', reason: undefined });
    }
    return health;
  }

  private get indexFile(): string {
    return join(this.root, INDEX_FILE);
  }

  private loadIndex(): Index {
    if (this.index !== undefined) return this.index;
    this.index = new Map();
    try {
      // A regular file only: reading a FIFO would wait for ever (and SIGTERM with it).
      if (lstatSync(this.indexFile, { throwIfNoEntry: false })?.isFile() !== true) return this.index;
      const saved = JSON.parse(readFileSync(this.indexFile, 'utf8')) as Record<string, IndexEntry>;
      for (const [path, entry] of Object.entries(saved)) this.index.set(join(this.root, path), entry);
    } catch {
      // no index yet, or an unreadable one: every file is parsed, which is only slower
    }
    return this.index;
  }

  /**
   * Removes the temporary files (`….tmp-<pid>`) a classops killed while writing left: once
   * nothing has changed them for a minute (no write takes that long, and another container's
   * classops, with its own pids, may be writing one now), if their pid is this one's (a
   * predecessor's: in a container each is pid 1) or runs no more; after an hour, any.
   */
  private clearTemporaries(paths: readonly string[]): void {
    for (const path of paths) {
      const pid = Number(TEMPORARY.exec(basename(path))![1]);
      const age = Date.now() - (lstatSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      const gone = pid === process.pid || !processRuns(pid);
      if ((gone && age > TEMPORARY_SETTLED_MS) || age > TEMPORARY_MAX_AGE_MS) rmSync(path, { force: true });
    }
  }

  /** The object files (regular `*.yaml` in real folders), and the temporary files beside them, in one walk. */
  private walk(): { yaml: string[]; temporaries: string[] } {
    const yaml: string[] = [];
    const temporaries: string[] = [];
    const temporary = (dir: string, file: Dirent) => {
      if (!file.isDirectory() && TEMPORARY.test(file.name)) temporaries.push(join(dir, file.name));
    };
    for (const folder of safeReaddir(this.root)) {
      temporary(this.root, folder);
      // Real folders only: classops makes no links, and one could lead anywhere.
      if (!folder.isDirectory()) continue;
      const dir = join(this.root, folder.name);
      // Regular files only: reading a FIFO would wait for ever (and SIGTERM with it); classops writes no links.
      for (const file of safeReaddir(dir)) {
        if (file.isFile() && file.name.endsWith('.yaml')) yaml.push(join(dir, file.name));
        else temporary(dir, file);
      }
    }
    return { yaml, temporaries };
  }

  async event(): Promise<void> {
    // A folder has no events; the reconciler logs what it did.
  }
}
