import { readdirSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config.js';
import { loadSchema } from '../../src/schemas.js';
import { FIXTURES, validateFixture } from '../support/rosters.js';

describe('the published roster schema (what editors check)', () => {
  const validate = new Ajv2020({ strict: true, allErrors: true }).compile(loadSchema('roster'));

  test('accepts the bundled sample roster', () => {
    const sample = parse(readFileSync(new URL('../../students/week-01.yaml', import.meta.url), 'utf8'));
    expect(validate(sample)).toBe(true);
  });

  test('the sample declares it for yaml-language-server', () => {
    expect(readFileSync(new URL('../../students/week-01.yaml', import.meta.url), 'utf8')).toMatch(
      /^# yaml-language-server: \$schema=\.\.\/schemas\/roster\.schema\.json$/m,
    );
  });

  test('accepts every entry classops accepts (the schema is never stricter than the CLI)', () => {
    const schemaFor = (entry: unknown) =>
      validate({ apiVersion: 'a.b/v1', kind: 'StudentSubmissions', metadata: { week: 1 }, students: [entry] });
    let checked = 0;
    for (const name of readdirSync(FIXTURES)) {
      for (const result of validateFixture(name).entries) {
        if (result.entry === undefined) continue;
        expect(schemaFor(result.raw)).toBe(true);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('configuration', () => {
  test('needs no file: every default comes from the schema', () => {
    const config = loadConfig({ env: {} });
    expect(config.policy).toEqual({
      allowedRegistries: ['ghcr.io'],
      imageOwnerMustMatchUsername: true,
      instructors: [],
      limits: { maxFileBytes: 1048576, maxEntries: 5000, maxAliases: 100, maxGrowthBytes: 4096 },
    });
    expect(config.source).toEqual({
      kind: 'dir',
      path: 'students',
      url: '',
      branch: 'main',
      tokenFile: '',
      sshKeyFile: '',
      pollInterval: '',
    });
    expect(config.cluster).toMatchObject({
      kubeconfig: '',
      context: '',
      manifestsDir: 'out/manifests',
      maxPruneFraction: 0.5,
    });
  });

  test('environment variables override, typed by the schema', () => {
    const config = loadConfig({
      env: {
        CLASSOPS_POLICY_ALLOWED_REGISTRIES: 'ghcr.io, registry.example.edu',
        CLASSOPS_POLICY_IMAGE_OWNER_MUST_MATCH_USERNAME: 'false',
        CLASSOPS_POLICY_LIMITS_MAX_ALIASES: '3',
      },
    });
    expect(config.policy.allowedRegistries).toEqual(['ghcr.io', 'registry.example.edu']);
    expect(config.policy.imageOwnerMustMatchUsername).toBe(false);
    expect(config.policy.limits.maxAliases).toBe(3);
  });

  test('an emptied allow-list of registries is refused, not a course where no image is allowed', () => {
    expect(() => loadConfig({ env: { CLASSOPS_POLICY_ALLOWED_REGISTRIES: '' } })).toThrow(
      /\/policy\/allowedRegistries must NOT have fewer than 1 items/,
    );
  });

  test('the course repository is owner/name or nothing: a URL would silently match no push', () => {
    for (const repository of ['https://github.com/course/repo', 'course', 'course/repo/extra', 'course/repo.git'])
      expect(() => loadConfig({ env: {}, overrides: { github: { repository } } })).toThrow(
        /\/github\/repository must match pattern/,
      );
    expect(
      loadConfig({ env: {}, overrides: { github: { repository: 'Course-2026/web.app' } } }).github.repository,
    ).toBe('Course-2026/web.app');
  });

  test('ranges the API server would refuse in the egress policy (which would leave pods unrestricted) are refused', () => {
    const egress = (e: Record<string, unknown>) => () =>
      loadConfig({ env: {}, overrides: { render: { networkPolicy: { egress: e } } } });
    expect(
      egress({ exceptCidrs: ['0.0.0.0/0', '10.0.0.0/33', '999.1.1.1/8', '::ffff:10.0.0.0/104', '010.0.0.0/8'] }),
    ).toThrow(
      new ConfigError(
        [
          'invalid configuration: render.networkPolicy.egress.exceptCidrs[0] "0.0.0.0/0" needs a prefix length from /1 to /32',
          'render.networkPolicy.egress.exceptCidrs[1] "10.0.0.0/33" needs a prefix length from /1 to /32',
          'render.networkPolicy.egress.exceptCidrs[2] "999.1.1.1/8" is not an IPv4 or IPv6 range (an address, "/", a prefix length: 10.0.0.0/8, fc00::/7)',
          'render.networkPolicy.egress.exceptCidrs[3] "::ffff:10.0.0.0/104" is not an IPv4 or IPv6 range (an address, "/", a prefix length: 10.0.0.0/8, fc00::/7)',
          'render.networkPolicy.egress.exceptCidrs[4] "010.0.0.0/8" is not an IPv4 or IPv6 range (an address, "/", a prefix length: 10.0.0.0/8, fc00::/7)',
        ].join('; '),
      ),
    );
    expect(egress({ exceptCidrs: ['::/0', 'fe80::/129'] })).toThrow(
      /"::\/0" needs a prefix length from \/1 to \/128; .*"fe80::\/129" needs/,
    );
    // DNS servers may be anywhere, even everywhere: the rule is for port 53 alone.
    expect(egress({ dnsCidrs: ['169.254.20.10/32', '0.0.0.0/0', '::/0'], exceptCidrs: ['1.2.3.4/32'] })).not.toThrow();
    expect(egress({ dnsCidrs: ['1.2.3/8'] })).toThrow(/dnsCidrs\[0\] "1.2.3\/8" is not an IPv4 or IPv6 range/);
    // A bit set past the prefix is a typo's mark, and newer API servers refuse it.
    expect(egress({ exceptCidrs: ['10.0.0.1/8', 'fd00::/7', '10.0.0.0/08'] })).toThrow(
      new ConfigError(
        [
          `invalid configuration: render.networkPolicy.egress.exceptCidrs[0] "10.0.0.1/8" sets bits past its /8 prefix: write the range's first address`,
          `render.networkPolicy.egress.exceptCidrs[1] "fd00::/7" sets bits past its /7 prefix: write the range's first address`,
          'render.networkPolicy.egress.exceptCidrs[2] "10.0.0.0/08" needs a prefix length from /1 to /32',
        ].join('; '),
      ),
    );
  });

  test('a quota of things counted one by one takes whole numbers only, as the API server does', () => {
    const quota = (q: Record<string, string>) => () => loadConfig({ env: {}, overrides: { render: { quota: q } } });
    for (const key of ['pods', 'services', 'count/deployments.apps', 'example.com/gpu', 'services.loadbalancers'])
      expect(quota({ [key]: '1.5' })).toThrow(
        new ConfigError(
          `invalid configuration: render.quota.${key} "1.5" must be a whole number: the API server counts these one by one`,
        ),
      );
    expect(quota({ pods: '500m' })).toThrow(/render.quota.pods "500m" must be a whole number/);
    expect(
      quota({ pods: '1e2', 'count/pods': '2k', 'requests.cpu': '500m', 'requests.nvidia.com/gpu': '0.5', cpu: '1.5' }),
    ).not.toThrow();
  });

  test('a namespace template holds only what a namespace name may, and its placeholders', () => {
    const template = (namespaceTemplate: string) => () =>
      loadConfig({ env: {}, overrides: { render: { namespaceTemplate } } });
    // The chart quotes it into the admission policy's CEL: a quote there would break the policy.
    for (const bad of ["it's-{week}", 'Course_{week}', '{course}-{wk}', 'w{week}\n'])
      expect(template(bad)).toThrow(/\/render\/namespaceTemplate must match pattern/);
    for (const good of ['{course}-week{week:02}', 'lab{week:003}-{course}', '{course:02}-w{week}'])
      expect(template(good)).not.toThrow();
  });

  test('a wrong environment value is a clear error', () => {
    expect(() => loadConfig({ env: { CLASSOPS_POLICY_LIMITS_MAX_ENTRIES: 'lots' } })).toThrow(
      new ConfigError('CLASSOPS_POLICY_LIMITS_MAX_ENTRIES: expected a number, got "lots"'),
    );
  });

  test('unknown keys and a missing file are refused; the unknown key is named', () => {
    expect(() => loadConfig({ env: {}, overrides: { polcy: {} } })).toThrow(
      /\(top level\) must NOT have additional properties: "polcy"/,
    );
    expect(() => loadConfig({ env: {}, overrides: { registry: { timout: '5s' } } })).toThrow(
      /\/registry must NOT have additional properties: "timout"/,
    );
    expect(() => loadConfig({ env: {}, file: '/no/such/classops.yaml' })).toThrow(/cannot read config file/);
  });

  test('durations that would stop or flood the controller are refused, each with its floor', () => {
    const refused = (overrides: Record<string, unknown>) => () => loadConfig({ env: {}, overrides });
    expect(refused({ source: { pollInterval: '0s' } })).toThrow(
      new ConfigError('invalid configuration: source.pollInterval "0s" is shorter than 100ms'),
    );
    expect(refused({ cluster: { resyncInterval: '0s' } })).toThrow(/cluster.resyncInterval "0s" is shorter than 100ms/);
    expect(refused({ registry: { timeout: '0s' } })).toThrow(/registry.timeout "0s" is shorter than 1s/);
    expect(refused({ gallery: { refreshInterval: '10ms' } })).toThrow(
      /gallery.refreshInterval "10ms" is shorter than 1s/,
    );
    expect(refused({ gallery: { fetchTimeout: '0ms' } })).toThrow(/gallery.fetchTimeout "0ms" is shorter than 100ms/);
    expect(refused({ cluster: { leaderElection: { leaseDuration: '400ms' } } })).toThrow(
      /cluster.leaderElection.leaseDuration "400ms" is shorter than 1s/,
    );
    expect(refused({ cluster: { leaderElection: { leaseDuration: '5s', renewInterval: '5s' } } })).toThrow(
      /cluster.leaderElection.renewInterval "5s" must be shorter than leaseDuration "5s"/,
    );
    // Past Node's longest timer (about 24.8 days) a delay fires at once: a resync of 720h would spin.
    expect(refused({ cluster: { resyncInterval: '720h' } })).toThrow(
      /cluster.resyncInterval "720h" is longer than 596h, the longest wait a timer keeps/,
    );
    expect(refused({ registry: { timeout: '99999999999999999999h' } })).toThrow(
      /registry.timeout .* is longer than 596h/,
    );
    expect(() => loadConfig({ env: {}, overrides: { cluster: { resyncInterval: '596h' } } })).not.toThrow();
    // Without leader election, the Lease's timings do not matter.
    expect(() =>
      loadConfig({
        env: {},
        overrides: { cluster: { leaderElection: { enabled: false, leaseDuration: '5s', renewInterval: '5s' } } },
      }),
    ).not.toThrow();
    // An empty pollInterval is the default (5m with a webhook, 30s without); the floors themselves are allowed.
    expect(() =>
      loadConfig({ env: {}, overrides: { source: { pollInterval: '100ms' }, registry: { timeout: '1s' } } }),
    ).not.toThrow();
  });

  test('resources no API server would take, or no pod could run with, are refused with what is wrong', () => {
    const refused = (render: Record<string, unknown>) => () => loadConfig({ env: {}, overrides: { render } });
    expect(refused({ resources: { requests: { cpu: '500m' }, limits: { cpu: '100m' } } })).toThrow(
      /render.resources.requests.cpu "500m" is more than render.resources.limits.cpu "100m"/,
    );
    expect(refused({ resources: { limits: { memory: '2Gi' } } })).toThrow(
      /render.resources.limits.memory "2Gi" is more than render.limitRangeMax.memory "1Gi"/,
    );
    expect(refused({ resources: { limits: { memory: '64m' } } })).toThrow(
      /render.resources.limits.memory "64m" is thousandths of a byte; write Mi or Gi/,
    );
    expect(refused({ resources: { limits: { ephemeralStorage: '3Gi' } } })).toThrow(
      /render.resources.limits.ephemeralStorage "3Gi" is more than render.limitRangeMax.ephemeralStorage "2Gi"/,
    );
    expect(refused({ resources: { requests: { ephemeralStorage: '64m' } } })).toThrow(
      /render.resources.requests.ephemeralStorage "64m" is thousandths of a byte/,
    );
    expect(refused({ quota: { 'requests.ephemeral-storage': '5m' } })).toThrow(/is thousandths of a byte/);
    expect(refused({ quota: { pods: 'lots' } })).toThrow(/render.quota.pods "lots" is not a Kubernetes quantity/);
    expect(refused({ quota: { pods: '-5' } })).toThrow(/render.quota.pods "-5" is not a Kubernetes quantity/);
    expect(refused({ quota: { 'limits.memory': '48m' } })).toThrow(/render.quota.limits.memory "48m" is thousandths/);
    // Names the API server refuses in a quota: the whole ResourceQuota of every week would be refused.
    for (const key of [
      '',
      'bad key',
      'count/',
      '/pods',
      'Example.com/gpu',
      'a..b/gpu',
      'a.-b/gpu',
      'x'.repeat(64),
      '-pods',
    ])
      expect(refused({ quota: { [key]: '1' } })).toThrow(`render.quota ${JSON.stringify(key)} is not a resource name`);
    for (const key of ['pod', 'deployments', 'requests.gpu'])
      expect(refused({ quota: { [key]: '1' } })).toThrow(
        `render.quota ${JSON.stringify(key)} is not a resource a ResourceQuota limits`,
      );
    // Equal amounts written two ways, and every form the API server takes in a quota, are fine.
    const accepted = (render: Record<string, unknown>) => () => loadConfig({ env: {}, overrides: { render } });
    expect(accepted({ resources: { requests: { cpu: '200m' } } })).not.toThrow();
    expect(accepted({ resources: { requests: { cpu: '700m' }, limits: { cpu: '0.7' } } })).not.toThrow();
    expect(accepted({ resources: { requests: { cpu: '350m' }, limits: { cpu: '0.35' } } })).not.toThrow();
    expect(accepted({ resources: { requests: { memory: '1070M' }, limits: { memory: '1.07G' } } })).not.toThrow();
    for (const amount of ['1e3', '1E3', '.5', '+1', '100n', '100u', '150', '10k'])
      expect(accepted({ quota: { 'requests.cpu': amount } })).not.toThrow();
    for (const pods of ['1e3', '1E3', '+1', '150', '10k', '1.0']) expect(accepted({ quota: { pods } })).not.toThrow();
    expect(accepted({ quota: { 'requests.storage': '10Gi', 'count/deployments.apps': '50' } })).not.toThrow();
    const names = [
      'hugepages-2Mi',
      'requests.hugepages-1Gi',
      'example.com/gpu',
      'requests.nvidia.com/gpu',
      'configmaps',
    ];
    expect(accepted({ quota: Object.fromEntries(names.map((key) => [key, '4'])) })).not.toThrow();
  });

  test('owner matching can be turned off for courses that host images centrally', () => {
    const policy = loadConfig({ env: {}, overrides: { policy: { imageOwnerMustMatchUsername: false } } }).policy;
    expect(validateFixture('image-owner', policy).findings).toEqual([]);
  });
});
