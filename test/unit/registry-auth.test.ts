import { parseChallenge } from '../../src/registry/auth.js';
import { plainHttpAllowed, registryApiHost } from '../../src/registry/client.js';
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
  test('spaces around names, values and commas; names in any case; hyphens and digits in names', () => {
    expect(parseChallenge('  BEARER  Realm = "https://a.io/t" ,  Service=reg-1 , x-id2="" ,error=,scope=a')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://a.io/t', service: 'reg-1', 'x-id2': '', error: '', scope: 'a' },
    });
  });
  test('reading stops at what is not a parameter; a scheme must come first', () => {
    expect(parseChallenge('Bearer realm="https://a.io/t", junk, service="s"')?.params).toEqual({
      realm: 'https://a.io/t',
    });
    expect(parseChallenge('Bearer realm="a"service="b"')?.params).toEqual({ realm: 'a', service: 'b' });
    expect(parseChallenge('Bearer')).toEqual({ scheme: 'bearer', params: {} });
    expect(parseChallenge('"Bearer" realm="a"')).toBeUndefined();
    expect(parseChallenge('')).toBeUndefined();
    expect(parseChallenge('1Bearer realm="a"')).toBeUndefined();
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
  test("Docker Hub's API host; a fallback to plain HTTP only for loopback and listed registries", () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io');
    expect(plainHttpAllowed('127.0.0.1:5000', [])).toBe(true);
    expect(plainHttpAllowed('localhost:5000', [])).toBe(true);
    expect(plainHttpAllowed('[::1]:5000', [])).toBe(true);
    expect(plainHttpAllowed('registry.lab:5000', ['registry.lab:5000'])).toBe(true);
    expect(plainHttpAllowed('registry.lab:5000', [])).toBe(false);
    expect(plainHttpAllowed('ghcr.io', [])).toBe(false);
    expect(plainHttpAllowed('127.0.0.1.evil.example', [])).toBe(false);
    expect(plainHttpAllowed('127.10.100.254:5000', [])).toBe(true);
    expect(plainHttpAllowed('evil.localhost:5000', [])).toBe(false);
    expect(plainHttpAllowed('127.0.0.0.1:5000', [])).toBe(false);
    expect(plainHttpAllowed('127.1000.0.1:5000', [])).toBe(false);
  });
});
