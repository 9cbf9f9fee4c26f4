/**
 * In-cluster discovery: `classops gallery` lists and watches the Services classops manages
 * through the real @kubernetes/client-node, against the fake API server.
 */
import { CLI } from '../support/cli.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { waitFor } from '../support/processes.js';
import { RunningClassops } from '../support/running.js';

const NS = 'container-course-week02';

function service(login: string, managed = true, namespace = NS, type = 'ClusterIP') {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: `student-${login.toLowerCase()}`,
      namespace,
      labels: {
        'app.kubernetes.io/managed-by': managed ? 'classops' : 'helm',
        'classops.dev/student': login.toLowerCase(),
        'classops.dev/week': '2',
      },
      annotations: {
        'classops.dev/display-name': `Name of ${login}`,
        'classops.dev/github-username': login,
        'classops.dev/student-endpoint': '/about',
      },
    },
    spec:
      type === 'ExternalName'
        ? { type, externalName: 'metadata.internal.example' }
        : { type, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
  };
}

let api: FakeApiServer;
let gallery: RunningClassops | undefined;
beforeEach(async () => {
  api = await new FakeApiServer().start();
});
afterEach(async () => {
  await gallery?.stop('SIGKILL');
  gallery = undefined;
  await api.stop();
});

async function logins(): Promise<string[]> {
  const body = JSON.parse((await gallery!.get('/api/students')).text);
  return body.students.map((s: { github_username: string }) => s.github_username);
}

test('a managed Service appearing and disappearing adds and removes a student, without a restart', async () => {
  api.put(service('Ann'));
  api.put(service('other', false));
  // Labelled as classops' but not what it renders: outside the course's namespaces, or pointing at another host.
  api.put(service('Spoof', true, 'other-team'));
  api.put(service('Elsewhere', true, NS, 'ExternalName'));
  gallery = await RunningClassops.start(['--port', '0'], {
    command: [process.execPath, CLI, 'gallery'],
    env: {
      CLASSOPS_CLUSTER_KUBECONFIG: api.kubeconfig(),
      CLASSOPS_GALLERY_HOST: '127.0.0.1',
      CLASSOPS_GALLERY_FETCH_TIMEOUT: '500ms',
    },
  });
  // Ready once the first listing of Services is in: on a loaded machine that can come after the port opens.
  await waitFor(async () => (await gallery!.get('/readyz')).status === 200, 10_000, 'the gallery ready');
  await waitFor(
    async () => (await logins()).length === 1,
    10_000,
    'the first Service listed',
    () => gallery!.output,
  );
  const first = JSON.parse((await gallery.get('/api/students')).text).students[0];
  expect(first).toMatchObject({ github_username: 'Ann', name: 'Name of Ann', week: 2, url: '/students/ann' });

  api.put(service('Bo'));
  await waitFor(
    async () => (await logins()).join() === 'Ann,Bo',
    10_000,
    'a new Service seen through the watch',
    () => gallery!.output,
  );
  // The watch was opened with the managed-by selector and goes on from the list's resourceVersion.
  expect(api.requests.some((r) => /^GET \/api\/v1\/services\?.*watch=true/.test(r))).toBe(true);
  expect(api.requests.some((r) => r.includes('labelSelector=app.kubernetes.io%2Fmanaged-by%3Dclassops'))).toBe(true);

  api.remove('v1', 'Service', NS, 'student-ann');
  await waitFor(
    async () => (await logins()).join() === 'Bo',
    10_000,
    'a deleted Service gone',
    () => gallery!.output,
  );

  // A dropped watch is resumed: a Service added afterwards still shows up.
  api.dropWatches();
  api.put(service('Cy'));
  await waitFor(async () => (await logins()).join() === 'Bo,Cy', 20_000, 'a Service after a dropped watch');
}, 60_000);
