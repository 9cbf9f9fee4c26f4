/**
 * The embedded default's "cluster": a folder with one YAML file per object
 * (`<namespace>/<kind>-<name>.yaml`, cluster-wide objects in `_cluster/`). The reconciler
 * treats it exactly as a cluster, with the same guard and last-known-good rules.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { LABEL, MANAGED_BY } from '../render/names.js';
import type { KubeObject } from '../render/objects.js';
import { toYaml } from '../render/serialize.js';
import type { ObjectRef, StudentHealth, Target } from './target.js';

export class DirectoryTarget implements Target {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `folder ${dir}`;
  }

  private pathOf(ref: ObjectRef): string {
    return join(this.dir, ref.namespace ?? '_cluster', `${ref.kind.toLowerCase()}-${ref.name}.yaml`);
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
