/**
 * OCI image layouts on disk, built by tests and pushed with skopeo: a real (tiny) gzipped
 * tar layer, a config naming the platform, and a manifest or a multi-platform index.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './temp.js';

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A one-file tar archive (ustar), enough to be a real layer. */
function tarOf(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  const sum = header.reduce((a, b) => a + b, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
}

export class OciLayout {
  readonly dir = tempDir('classops-oci-');
  private readonly refs: Array<Descriptor & { annotations: Record<string, string> }> = [];

  constructor() {
    mkdirSync(join(this.dir, 'blobs/sha256'), { recursive: true });
    writeFileSync(join(this.dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  }

  private blob(data: Buffer): string {
    const digest = sha256(data);
    writeFileSync(join(this.dir, 'blobs/sha256', digest.slice(7)), data);
    return digest;
  }

  /** A single-platform image manifest; returns its descriptor. */
  image(platform: string, marker = platform): Descriptor {
    const [os = 'linux', architecture = 'amd64', variant] = platform.split('/');
    const tar = tarOf('hello.txt', `hello from ${marker}\n`);
    const layer = gzipSync(tar);
    const config = Buffer.from(
      JSON.stringify({
        architecture,
        os,
        ...(variant ? { variant } : {}),
        rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
        config: {},
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: this.blob(config),
          size: config.length,
        },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: this.blob(layer), size: layer.length },
        ],
      }),
    );
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: this.blob(manifest),
      size: manifest.length,
      platform: { os, architecture, ...(variant ? { variant } : {}) },
    };
  }

  /** An image index over several platforms (buildx-style, with an attestation entry when asked). */
  index(platforms: string[], withAttestation = false): Descriptor {
    const manifests: Descriptor[] = platforms.map((p) => this.image(p));
    if (withAttestation)
      manifests.push({
        ...this.image('unknown/unknown', 'attestation'),
        platform: { os: 'unknown', architecture: 'unknown' },
      });
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
    );
    return { mediaType: 'application/vnd.oci.image.index.v1+json', digest: this.blob(index), size: index.length };
  }

  /** Names a manifest or index in the layout as `tag`. */
  tag(tag: string, descriptor: Descriptor): this {
    const { platform: _platform, ...plain } = descriptor;
    this.refs.push({ ...plain, annotations: { 'org.opencontainers.image.ref.name': tag } });
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: this.refs }));
    return this;
  }
}
