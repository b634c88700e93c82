// The server as one executable (`npm run build:server`), run as an operator would on a machine
// without Node: copied alone into an empty folder, PATH holding only that folder, a fresh private
// cache. Where mount namespaces are allowed (root), every run also has the checkout, the node
// binary with its global modules (npm) and the system fonts hidden, so nothing can come from them.
//
//   npx mocha --no-config --node-option import=tsx --timeout 300000 issuance-server/test/sea/server-executable.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ApplicantApi } from 'desktop-applicant';
import { ApplicantSocketClient } from 'desktop-applicant';
import { DeviceKey } from 'desktop-applicant';
import { KioskApi } from 'kiosk-shell';
import { buildServerExecutable } from '@cert/scripts/build-server';
import { ensureTestPki, type TestPkiManifest } from '@cert/scripts/pki';
import { softwareToken } from '@cert/scripts/rig';
import { SERVER_VERSION } from '../../src/config.ts';
import { DEFAULT_FONT_PATH } from '../../src/documents/font-source.ts';
import { CACHE_FOLDER } from '../../src/runtime/single-executable.ts';
import { DEMO_RESIDENTS, REPO_ROOT, runCli, startServe, type CliLauncher, type CliResult, type ServeProcess } from '../cli/cli-harness.ts';

function which(program: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** A prefix that runs a command in a mount namespace hiding the checkout, node and the system fonts; null where that is not allowed. */
function isolationPrefix(): string[] | null {
  const [unshare, sh, mount] = [which('unshare'), which('sh'), which('mount')];
  if (!unshare || !sh || !mount) return null;
  const hidden = [REPO_ROOT, '/usr/share/fonts', join(dirname(dirname(process.execPath)), 'lib/node_modules')].filter((d) => existsSync(d));
  const script = [...hidden.map((d) => `${mount} -t tmpfs tmpfs '${d}'`), `${mount} --bind /dev/null '${process.execPath}'`, 'exec "$@"'].join(' && ');
  const prefix = [unshare, '--mount', sh, '-c', script, 'isolated'];
  const probe = spawnSync(prefix[0]!, [...prefix.slice(1), sh, '-c', `test ! -e '${join(REPO_ROOT, 'package.json')}'`]);
  return probe.status === 0 ? prefix : null;
}

/** Each cached file by path: identity, mode and content hash. */
function cacheListing(root: string): Map<string, { ino: number; mtimeMs: number; mode: number; sha256: string }> {
  const out = new Map<string, { ino: number; mtimeMs: number; mode: number; sha256: string }>();
  for (const dir of readdirSync(root)) {
    assert.equal(statSync(join(root, dir)).mode & 0o777, 0o700, `${dir} is private`);
    for (const name of readdirSync(join(root, dir))) {
      const path = join(root, dir, name);
      const st = statSync(path);
      out.set(path, { ino: st.ino, mtimeMs: st.mtimeMs, mode: st.mode & 0o777, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') });
    }
  }
  return out;
}

function ok(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  // Node prints a warning when the executable's main script require()s anything but a built-in module.
  assert.doesNotMatch(r.stderr, /Warning/, what);
}

describe('single executable: serve and every admin command without Node', function () {
  this.timeout(120_000);
  let pki: TestPkiManifest;
  let tmp: string;
  let launcher: CliLauncher;
  let cache: string;
  let input: (name: string) => string;
  let server: ServeProcess | null = null;
  let firstListing: ReturnType<typeof cacheListing>;
  let credential: string;
  const data = () => join(tmp, 'data');
  const run = (...args: string[]) => runCli(args, 60_000, launcher);
  const admin = (...args: string[]) => run('admin', '--data-dir', data(), ...args);

  before(async function () {
    this.timeout(600_000);
    const build = await buildServerExecutable();
    console.log(`      (${build.reused ? 'reused the build' : 'built'} in ${(build.ms / 1000).toFixed(1)} s: ${(build.bytes / 1024 / 1024).toFixed(1)} MB)`);
    pki = await ensureTestPki();
    tmp = mkdtempSync(join(tmpdir(), 'issuance-sea-'));
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    const exe = join(bin, basename(build.output));
    copyFileSync(build.output, exe);
    // What the commands read, copied: the checkout is hidden from the executable.
    const inputs = join(tmp, 'input');
    mkdirSync(inputs);
    const files: Record<string, string> = {
      'auth-root.pem': pki.authRoot.certPath,
      'auth.crl': pki.crl.pemPath,
      'residents.csv': DEMO_RESIDENTS,
      'r0001-auth.pem': pki.residents['R0001']!.auth.certPath,
    };
    for (const [name, from] of Object.entries(files)) copyFileSync(from, join(inputs, name));
    input = (name) => join(inputs, name);
    cache = join(tmp, 'cache', CACHE_FOLDER);
    const isolation = isolationPrefix();
    if (!isolation) console.log('      (no mount namespaces here: the checkout, node and the system fonts stay visible; PATH still has no node)');
    launcher = {
      command: isolation?.[0] ?? exe,
      prefix: isolation ? [...isolation.slice(1), exe] : [],
      cwd: tmp,
      env: { PATH: bin, HOME: join(tmp, 'home'), XDG_CACHE_HOME: join(tmp, 'cache'), LANG: 'C.UTF-8' },
    };
    assert.notEqual(spawnSync(which('sh')!, ['-c', 'command -v node || command -v npm'], { env: launcher.env }).status, 0, 'no node or npm on PATH');
  });

  after(async () => {
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('prints its usage and version without unpacking anything', async () => {
    const help = await run('--help');
    ok(help, '--help');
    assert.match(help.stdout, /^usage:\n/);
    assert.match(help.stdout, /admin STORE backup --to FILE/);
    const serveHelp = await run('serve', '--help');
    ok(serveHelp, 'serve --help');
    assert.match(serveHelp.stdout, /\[--kiosk-lookup-limit BURST\/PER_MIN\]/);
    const version = await run('--version');
    ok(version, '--version');
    assert.equal(version.stdout, `${SERVER_VERSION}\n`);
    assert.equal(existsSync(cache), false);
  });

  it('sets a data directory up with the admin commands; the first run unpacks addon and font into a private cache, later runs reuse it', async () => {
    ok(await admin('init', '--municipality-code', '999991', '--municipality-name', 'テスト市'), 'init');
    assert.equal(statSync(cache).mode & 0o777, 0o700);
    firstListing = cacheListing(cache);
    const files = [...firstListing].map(([path, f]) => ({ path, ...f }));
    assert.deepEqual(files.map((f) => basename(f.path)).sort(), ['better_sqlite3.node', basename(DEFAULT_FONT_PATH)].sort());
    for (const f of files) {
      assert.equal(basename(dirname(f.path)), f.sha256, `${f.path} sits in the folder named by its hash`);
      assert.equal(f.mode, 0o600);
    }
    assert.equal(files.find((f) => f.path.endsWith('.ttf'))!.sha256, createHash('sha256').update(readFileSync(DEFAULT_FONT_PATH)).digest('hex'));

    ok(await admin('trust-anchor', 'add', input('auth-root.pem')), 'trust-anchor add');
    ok(await admin('crl', 'import', input('auth.crl')), 'crl import');
    const residents = await admin('residents', 'import', input('residents.csv'));
    ok(residents, 'residents import');
    assert.match(residents.stdout, /^imported \d+ resident\(s\)$/m);
    ok(await admin('card', 'link', '--resident', 'R0001', '--certificate', input('r0001-auth.pem')), 'card link');
    const kiosk = await admin('kiosk', 'register', '--name', 'テスト店', '--location', 'テスト市本町');
    ok(kiosk, 'kiosk register');
    credential = kiosk.stdout.trim().split('\n').at(-1)!;

    assert.deepEqual(cacheListing(cache), firstListing, 'the cached files were reused, not written again');
  });

  it('serves the phone app and a complete flow over the wire: login with the card key, apply, kiosk claim, approval on the device socket, PDF, printed', async () => {
    const checkpoints = join(tmp, 'checkpoints.jsonl');
    server = await startServe(['--data-dir', data(), '--port', '0', '--log-level', 'warn', '--audit-checkpoint-file', checkpoints], 30_000, launcher);
    // The SQLite addon mapped into the server is the unpacked one.
    const mapped = readFileSync(`/proc/${server.child.pid}/maps`, 'utf8');
    const addons = [...new Set(mapped.match(/\S*better_sqlite3\.node/g))];
    assert.deepEqual(addons, [[...firstListing.keys()].find((p) => p.endsWith('better_sqlite3.node'))]);

    // The phone approval app is embedded (no esbuild, no sources next to the executable).
    for (const file of ['', 'app.js', 'sw.js', 'manifest.webmanifest']) {
      const res = await fetch(new URL(`/phone/${file}`, server.url));
      assert.equal(res.status, 200, `/phone/${file}`);
      assert.ok((await res.arrayBuffer()).byteLength > 100, `/phone/${file} has content`);
    }

    const endpoint = { baseUrl: server.url };
    const device = DeviceKey.loadOrCreate(join(tmp, 'device.key'));
    const api = new ApplicantApi(endpoint);
    const session = await api.login(softwareToken(pki.residents['R0001']!.auth), device);
    assert.equal(session.resident.displayName, '山田 太郎');
    const socket = new ApplicantSocketClient(endpoint, device, { baseDelayMs: 50, maxDelayMs: 200 });
    let confirmations = 0;
    socket.on('confirmation-request', (r) => {
      confirmations++;
      socket.respond(r.requestId, true);
    });
    try {
      socket.start();
      await socket.whenAuthenticated(10_000);
      const app = await api.apply({ certificateType: 'juminhyo', options: {}, copies: 1 });
      const kiosk = new KioskApi(endpoint, credential);
      const started = await kiosk.start(app.receiptNumber);
      let status = started.status as string;
      for (let i = 0; i < 10 && status === 'confirmation_pending'; i++) status = await kiosk.status(started.issuanceId, 5000);
      assert.equal(status, 'approved');
      assert.equal(confirmations, 1);
      const pdf = await kiosk.document(started.issuanceId);
      const text = spawnSync('pdftotext', ['-layout', '-', '-'], { input: pdf, encoding: 'utf8' });
      assert.equal(text.status, 0, text.stderr);
      assert.ok(text.stdout.includes('山田'), `the resident is on the certificate:\n${text.stdout.slice(0, 1000)}`);
      assert.equal(await kiosk.result(started.issuanceId, 'printed'), 'printed');
      assert.equal((await api.list()).find((a) => a.applicationId === app.applicationId)?.status, 'printed');
    } finally {
      socket.stop();
    }

    // While it serves: the audit chain verifies, an online backup is taken, a restore is refused.
    const audit = await admin('audit', 'verify');
    ok(audit, 'audit verify');
    assert.match(audit.stdout, /^audit log intact: \d+ row\(s\)/);
    ok(await admin('backup', '--to', join(tmp, 'backup.sqlite3')), 'backup');
    const restore = await admin('restore', '--from', join(tmp, 'backup.sqlite3'));
    assert.equal(restore.code, 1, restore.stderr);
    assert.match(restore.stderr, /another issuance server is already serving/);

    server.child.kill('SIGTERM');
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.doesNotMatch(server.stderr(), /Warning|"level":[5-6]0/);
    assert.deepEqual(cacheListing(cache), firstListing, 'serve reused the cache');
  });

  it('after the stop: the audit log reaches the exported checkpoint, and the backup restores', async () => {
    const verified = await admin('audit', 'verify', '--checkpoint', join(tmp, 'checkpoints.jsonl'));
    ok(verified, 'audit verify --checkpoint');
    assert.match(verified.stdout, /reaches the signed checkpoint of row \d+/);
    const restored = await admin('restore', '--from', join(tmp, 'backup.sqlite3'));
    ok(restored, 'restore');
    ok(await admin('audit', 'verify'), 'audit verify after the restore');
  });

  it('writes a missing or damaged cached file again', async () => {
    const [addon, font] = ['better_sqlite3.node', '.ttf'].map((end) => [...firstListing.keys()].find((p) => p.endsWith(end))!);
    rmSync(addon!);
    writeFileSync(font!, 'not a font');
    const r = await admin('issuances', 'unsettled');
    ok(r, 'issuances unsettled');
    assert.equal(r.stdout, 'no issuance awaits settlement\n');
    const now = cacheListing(cache);
    assert.deepEqual([...now.keys()].sort(), [...firstListing.keys()].sort());
    for (const [path, f] of now) assert.equal(f.sha256, firstListing.get(path)!.sha256, `${path} was restored`);
  });
});
