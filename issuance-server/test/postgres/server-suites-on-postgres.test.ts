// The same test bodies on the other engine: the server's integration suite and the store's unit
// tests, which `npm run test:unit` runs on SQLite, run here once more against a real PostgreSQL 15
// (a throwaway cluster), in a mocha child process whose test-storage.ts switch names the cluster.
// Every TestServer then gets a fresh database copied from a seeded template.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { REPO_ROOT, startPostgresCluster, type PostgresCluster } from '@cert/scripts/rig';

const SUITES = [
  'issuance-server/test/integration/*.test.ts',
  'issuance-server/test/unit/lifecycle.test.ts',
  'issuance-server/test/unit/rate-limiter.test.ts',
  'issuance-server/test/unit/audit-log.test.ts',
];

/** Runs mocha on `specs` with `env`, echoing its report indented; resolves with the exit code and the report. */
function runMocha(specs: string[], env: Record<string, string>): Promise<{ code: number | null; report: string }> {
  const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
  const child = spawn(process.execPath, [mocha, '--no-config', '--node-option', 'import=tsx', '--timeout', '60000', '--reporter', 'spec', ...specs], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let report = '';
  const echo = (d: Buffer) => {
    report += d.toString();
    process.stdout.write(d.toString().replace(/^(?=.)/gm, '    │ '));
  };
  child.stdout.on('data', echo);
  child.stderr.on('data', echo);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, report })));
}

describe('the server suites on PostgreSQL (same test bodies as on SQLite)', function () {
  this.timeout(10 * 60_000);
  let cluster: PostgresCluster | null = null;
  before(async () => {
    cluster = await startPostgresCluster();
  });
  after(() => cluster?.stop());

  it('integration suite, lifecycle, rate-limiter and audit-log unit tests pass against a real PostgreSQL', async () => {
    const { code, report } = await runMocha(SUITES, { ISSUANCE_TEST_POSTGRES: cluster!.adminUrl });
    const passing = Number(/(\d+) passing/.exec(report)?.[1] ?? 0);
    const failing = Number(/(\d+) failing/.exec(report)?.[1] ?? 0);
    assert.equal(failing, 0, `${failing} test(s) failed on PostgreSQL (report above)`);
    assert.equal(code, 0, 'mocha on PostgreSQL exited with an error (report above)');
    // Guards against a glob that matched nothing or a suite that stopped registering its tests.
    assert.ok(passing >= 150, `only ${passing} tests ran on PostgreSQL`);
  });
});
