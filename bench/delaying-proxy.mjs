// A TCP proxy on loopback that adds latency, like a registry across the internet: every
// chunk waits `delayMs` in each direction, and a new connection costs one round trip
// before its first byte goes through (the TCP handshake of a real link).
import { connect, createServer } from 'node:net';

/** Forwards `from` to `to`, each chunk `delayMs` later, in order. */
function delayed(from, to, delayMs) {
  from.on('data', (chunk) => setTimeout(() => to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('error', () => to.destroy());
}

export async function startDelayingProxy(target, delayMs) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set();
  let opened = 0;
  const server = createServer((client) => {
    opened += 1;
    client.pause();
    const upstream = connect(port, host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    upstream.once('connect', () =>
      setTimeout(() => {
        delayed(client, upstream, delayMs);
        delayed(upstream, client, delayMs);
        client.resume();
      }, 2 * delayMs),
    );
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${server.address().port}`,
    /** Connections opened through the proxy so far. */
    connections: () => opened,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(resolve);
      }),
  };
}

// Run as its own process, so forwarding costs the benchmarked process no CPU, as a real
// network would not: node bench/delaying-proxy.mjs HOST:PORT DELAY_MS (prints the proxy's port).
if (import.meta.url === `file://${process.argv[1]}`) {
  const proxy = await startDelayingProxy(process.argv[2], Number(process.argv[3]));
  process.stdout.write(`${proxy.host}\n`);
  process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
}
