import { parseChallenge } from '../../src/registry/auth.js';
import { registryBaseUrl } from '../../src/registry/client.js';
import { redirectAllowed } from '../../src/registry/http.js';

describe('WWW-Authenticate challenges', () => {
  test("GHCR's Bearer challenge", () => {
    expect(
      parseChallenge('Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:jlgore/app:pull"'),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://ghcr.io/token', service: 'ghcr.io', scope: 'repository:jlgore/app:pull' },
    });
  });
  test('quoted commas, escapes, spaces and unquoted values', () => {
    expect(
      parseChallenge(
        'Bearer realm="https://a.io/t", scope="repository:a/b:pull,push", error=insufficient_scope, x="q\\"uote"',
      )?.params,
    ).toEqual({
      realm: 'https://a.io/t',
      scope: 'repository:a/b:pull,push',
      error: 'insufficient_scope',
      x: 'q"uote',
    });
  });
  test('Basic, and nothing', () => {
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
    expect(parseChallenge(undefined)).toBeUndefined();
  });
});

describe('where requests go', () => {
  test('redirects never go from HTTPS to plain HTTP, nor to other schemes', () => {
    expect(
      redirectAllowed(new URL('https://ghcr.io/v2/'), new URL('https://pkg-containers.githubusercontent.com/x')),
    ).toBe(true);
    expect(redirectAllowed(new URL('https://ghcr.io/v2/'), new URL('http://evil.example/x'))).toBe(false);
    expect(redirectAllowed(new URL('http://127.0.0.1:5000/v2/'), new URL('https://127.0.0.1:5001/v2/'))).toBe(true);
    expect(redirectAllowed(new URL('https://ghcr.io/v2/'), new URL('file:///etc/passwd'))).toBe(false);
  });
  test("Docker Hub's API host; plain HTTP only for loopback and listed registries", () => {
    expect(registryBaseUrl('docker.io', [])).toBe('https://registry-1.docker.io');
    expect(registryBaseUrl('ghcr.io', [])).toBe('https://ghcr.io');
    expect(registryBaseUrl('127.0.0.1:5000', [])).toBe('http://127.0.0.1:5000');
    expect(registryBaseUrl('localhost:5000', [])).toBe('http://localhost:5000');
    expect(registryBaseUrl('registry.lab:5000', ['registry.lab:5000'])).toBe('http://registry.lab:5000');
  });
});
