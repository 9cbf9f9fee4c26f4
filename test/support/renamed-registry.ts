/**
 * A loopback registry reached under a name that is not loopback: an undici Agent whose
 * lookup answers 127.0.0.1 for every name, and one check through it as the checker makes
 * them, so tests can see what classops does with a host it must not speak to in clear.
 */
import { Agent } from 'undici';
import { TokenCache } from '../../src/registry/auth.js';
import { checkImageOnce } from '../../src/registry/client.js';
import { RegistryPool } from '../../src/registry/http.js';
import type { Verdict } from '../../src/registry/verdict.js';
import { parseImageReference } from '../../src/roster/image-reference.js';

type Lookup = (error: null, address: string | Array<{ address: string; family: number }>, family?: number) => void;

export function loopbackForEveryName(): Agent {
  return new Agent({
    connect: {
      // Node asks for every address (`all`) when it may try several families.
      lookup: (_host: string, options: { all?: boolean }, callback: Lookup) =>
        options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
    } as object,
  });
}

/** One check of `image`, with nothing cached, where only `registry.plainHttp` varies. */
export function checkThrough(dispatcher: Agent, image: string, plainHttp: readonly string[]): Promise<Verdict> {
  const parsed = parseImageReference(image);
  if (!parsed.ok) throw new Error(parsed.problem);
  const outcome = checkImageOnce(parsed.reference, {
    requiredPlatform: 'linux/amd64',
    maxManifestBytes: 1 << 20,
    plainHttp,
    bases: new Map(),
    // The checker always asks for a pool per registry: a dispatcher given must still be the one used.
    http: { timeoutMs: 10_000, dispatcher, pool: new RegistryPool(4, 10_000) },
    tokens: new TokenCache(),
    blobStores: new Map(),
    now: () => performance.now(),
  });
  return outcome.then((o) => o.verdict);
}
