/** The fake API server's injected faults are what they claim to be: a closed connection is one, for a watch too. */
import { get } from 'node:http';
import { FakeApiServer } from '../support/fake-apiserver.js';

let api: FakeApiServer;
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await api.stop();
});

/** What a plain HTTP client gets: a status, or the error that ended the request. */
function fetchOnce(url: string): Promise<string> {
  return new Promise((resolve) => {
    const request = get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(`HTTP ${res.statusCode}`));
      res.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

test.each(['drop', 'drop-after'] as const)(
  '%s closes the connection of a listing and of a watch, with no answer',
  async (status) => {
    const path = '/apis/apps/v1/deployments';
    api.inject({ method: 'GET', path, status, times: 2 });
    expect(await fetchOnce(`${api.url}${path}`)).toBe('ECONNRESET');
    expect(await fetchOnce(`${api.url}${path}?watch=true`)).toBe('ECONNRESET');
    expect(api.servedFaults).toEqual([`GET ${path} ${status}`, `GET ${path} ${status}`]);
    expect(await fetchOnce(`${api.url}${path}`)).toBe('HTTP 200');
  },
);
