import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { ensureTestPki, type TestPkiManifest } from '@cert/scripts/pki';
import { admin, runCli, startServe, tempDir, type ServeProcess } from './cli-harness.ts';

/** GET over https with a chosen CA (or none: the system store). */
function httpsGet(url: string, ca?: Buffer, servername?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'GET', ...(ca ? { ca } : {}), ...(servername ? { servername } : {}), timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('serve CLI (spawned bin)', function () {
  this.timeout(120_000);
  let m: TestPkiManifest;
  let tmp: ReturnType<typeof tempDir>;
  let dir: string;
  const servers: ServeProcess[] = [];

  const serve = async (...args: string[]) => {
    const s = await startServe(['--data-dir', dir, '--port', '0', '--log-level', 'warn', ...args.filter((a) => a !== '--data-dir')]);
    servers.push(s);
    return s;
  };

  before(async () => {
    m = await ensureTestPki();
    tmp = tempDir('serve');
    dir = join(tmp.dir, 'data');
    const r = await admin(dir, 'init', '--municipality-code', '999991', '--municipality-name', 'テスト市');
    assert.equal(r.code, 0, r.stderr);
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  after(() => tmp?.cleanup());

  it('plain HTTP on loopback: prints its URL, answers health, stops with exit 0 on SIGTERM', async () => {
    const s = await serve();
    assert.match(s.stdout(), /^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    const port = Number(/:(\d+)$/.exec(s.url)![1]);
    assert.ok(port > 0 && port < 65536);
    const res = await fetch(`${s.url}/api/v1/health`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { status: string; version: string };
    assert.equal(body.status, 'ok');
    assert.equal(typeof body.version, 'string');
    // the catalog shows the municipality initialised before
    const catalog = (await (await fetch(`${s.url}/api/v1/catalog`)).json()) as { municipality: { code: string } };
    assert.equal(catalog.municipality.code, '999991');
    s.child.kill('SIGTERM');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
    await assert.rejects(fetch(`${s.url}/api/v1/health`));
    assert.doesNotMatch(s.stderr(), /"level":50|error/i);
  });

  it('SIGINT right after the URL is printed is still a graceful stop (exit 0)', async () => {
    const s = await serve();
    s.child.kill('SIGINT');
    assert.deepEqual(await s.exited, { code: 0, signal: null });
  });

  it('refuses plain HTTP on a non-loopback address, and half a TLS configuration', async () => {
    const [anyHost, tlsHalf] = await Promise.all([
      runCli(['serve', '--data-dir', dir, '--host', '0.0.0.0', '--port', '0']),
      runCli(['serve', '--data-dir', dir, '--port', '0', '--tls-cert', m.tls.cert]),
    ]);
    assert.notEqual(anyHost.code, 0);
    assert.match(anyHost.stderr, /^error: refusing plain HTTP on 0\.0\.0\.0: give --tls-cert and --tls-key, or bind to a loopback address$/m);
    assert.doesNotMatch(anyHost.stdout, /listening/);
    assert.equal(tlsHalf.code, 2);
    assert.match(tlsHalf.stderr, /--tls-cert and --tls-key go together/);
  });

  it('HTTPS with the test PKI: answers health to a client trusting the CA, refuses one that does not', async () => {
    const ca = readFileSync(m.tls.ca);
    const local = await serve('--tls-cert', m.tls.cert, '--tls-key', m.tls.key);
    // with TLS, a non-loopback bind is allowed (its own data directory: one server per directory)
    const wideDir = join(tmp.dir, 'wide');
    assert.equal((await admin(wideDir, 'init', '--municipality-code', '999991', '--municipality-name', 'テスト市')).code, 0);
    const wide = await startServe(['--data-dir', wideDir, '--port', '0', '--log-level', 'warn', '--tls-cert', m.tls.cert, '--tls-key', m.tls.key, '--host', '0.0.0.0']);
    servers.push(wide);
    assert.match(local.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${local.url}/api/v1/health`, ca);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.body) as { status: string }).status, 'ok');
    const byName = await httpsGet(`${local.url.replace('127.0.0.1', 'localhost')}/api/v1/health`, ca);
    assert.equal(byName.status, 200);
    await assert.rejects(httpsGet(`${local.url}/api/v1/health`), /self[- ]signed|unable to (get|verify)/i);
    // plain HTTP on the TLS port gets no API answer
    await assert.rejects(async () => {
      const r = await fetch(`${local.url.replace('https:', 'http:')}/api/v1/health`);
      if (r.ok) throw new Error('unexpected');
      throw new Error(`status ${r.status}`);
    });

    assert.match(wide.url, /^https:\/\/0\.0\.0\.0:\d+$/);
    const port = /:(\d+)$/.exec(wide.url)![1];
    const viaLoopback = await httpsGet(`https://127.0.0.1:${port}/api/v1/health`, ca);
    assert.equal(viaLoopback.status, 200);

    local.child.kill('SIGTERM');
    wide.child.kill('SIGTERM');
    assert.deepEqual(await local.exited, { code: 0, signal: null });
    assert.deepEqual(await wide.exited, { code: 0, signal: null });
  });

  it('one server per data directory: a second serve is refused with a clear message; the lock goes with the process, even on SIGKILL', async () => {
    const first = await serve();
    const second = await runCli(['serve', '--data-dir', dir, '--port', '0']);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /^error: another issuance server is already serving the data directory .*data.*; stop it first, or give this one its own --data-dir$/m);
    assert.doesNotMatch(second.stdout, /listening/);
    // the admin CLI still works next to a running server
    assert.equal((await admin(dir, 'audit', 'verify')).code, 0);
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await serve();
    assert.equal((await fetch(`${third.url}/api/v1/health`)).status, 200);
  });

  it('a TLS key file that does not exist is a clear error, not a crash trace', async () => {
    const r = await runCli(['serve', '--data-dir', dir, '--port', '0', '--tls-cert', m.tls.cert, '--tls-key', join(tmp.dir, 'missing.key')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error: .*missing\.key/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
