/**
 * The embedded default's "cluster": a folder with one YAML file per object
 * (`<namespace>/<kind>-<name>.yaml`, cluster-wide objects in `_cluster/`). The reconciler
 * treats it exactly as a cluster, with the same guard and last-known-good rules.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { LABEL, MANAGED_BY } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import { toYaml } from '../render/serialize.js';
import { ClusterError } from './kube.js';
import { describeRef, type ObjectRef, type StudentHealth, type Target } from './target.js';

/** Marks a folder `classops run` keeps; any other non-empty folder is never written into. */
export const MANIFESTS_MARKER = '.classops-manifests';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const KIND = /^[A-Za-z]+$/;

export class DirectoryTarget implements Target {
  readonly description: string;
  private readonly root: string;
  private marked = false;

  constructor(private readonly dir: string) {
    this.description = `folder ${dir}`;
    this.root = resolve(dir);
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
    const path = join(this.root, namespace, `${ref.kind.toLowerCase()}-${ref.name}.yaml`);
    if (!path.startsWith(this.root + sep)) throw new ClusterError(`refusing to write outside ${this.dir}`, undefined);
    return path;
  }

  async listManaged(): Promise<KubeObject[]> {
    const objects: KubeObject[] = [];
    let folders: string[];
    try {
      folders = readdirSync(this.dir);
    } catch {
      return [];
    }
    for (const folder of folders.sort()) {
      let files: string[];
      try {
        files = readdirSync(join(this.dir, folder)).filter((f) => f.endsWith('.yaml'));
      } catch {
        continue;
      }
      for (const file of files.sort()) {
        const object = parse(readFileSync(join(this.dir, folder, file), 'utf8')) as KubeObject | null;
        if (object?.metadata?.labels?.[LABEL.managedBy] === MANAGED_BY) objects.push(object);
      }
    }
    return objects;
  }

  async apply(object: KubeObject): Promise<void> {
    const path = this.pathOf({ ...object, namespace: object.metadata.namespace, name: object.metadata.name });
    mkdirSync(dirname(path), { recursive: true });
    if (!this.marked) {
      writeFileSync(join(this.root, MANIFESTS_MARKER), 'Kept by classops run: files here are replaced and removed.\n');
      this.marked = true;
    }
    const temporary = `${path}.tmp-${process.pid}`;
    writeFileSync(temporary, toYaml(object));
    renameSync(temporary, path); // readers never see half a file
  }

  async remove(ref: ObjectRef): Promise<void> {
    rmSync(this.pathOf(ref), { force: true });
  }

  async health(): Promise<Map<string, StudentHealth>> {
    const deployments = (await this.listManaged()).filter((o) => o.kind === 'Deployment');
    return new Map(
      deployments.map((d) => [
        `${d.metadata.namespace}/${d.metadata.labels?.[LABEL.student] ?? d.metadata.name}`,
        { phase: 'Rendered', reason: undefined },
      ]),
    );
  }

  async event(): Promise<void> {
    // A folder has no events; the reconciler logs what it did.
  }
}
