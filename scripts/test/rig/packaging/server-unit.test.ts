// The example systemd unit of the server executable (packaging/server/issuance-server.service).
//
//   npx mocha --no-config --node-option import=tsx --timeout 300000 scripts/test/rig/packaging/server-unit.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT, SERVER_BIN } from '../../../src/rig/server-process.ts';
import { hasSystemdAnalyze, unitSection, values, verifyUnits } from './unit-file.ts';

const UNIT = join(REPO_ROOT, 'packaging/server/issuance-server.service');

describe('packaging: the server executable as a systemd service', function () {
  this.timeout(60_000);
  const service = unitSection(readFileSync(UNIT, 'utf8'), 'Service');
  const one = (key: string) => {
    const v = values(service, key);
    assert.equal(v.length, 1, `exactly one ${key}=`);
    return v[0]!;
  };
  const exec = one('ExecStart').split(/\s+/);
  const option = (name: string) => exec[exec.indexOf(name) + 1];

  it('serves the state directory over TLS as a dedicated user, restarting on failure', () => {
    assert.notEqual(one('User'), 'root');
    assert.equal(one('Group'), one('User'));
    assert.equal(one('Restart'), 'on-failure');
    assert.match(exec[0]!, /^\/\S+\/issuance-server$/);
    assert.equal(exec[1], 'serve');
    assert.equal(option('--data-dir'), `/var/lib/${one('StateDirectory')}`);
    assert.equal(one('StateDirectoryMode'), '0700');
    assert.ok(option('--tls-cert') && option('--tls-key'), 'TLS: the server listens off loopback');
    for (const credential of [option('--tls-cert')!, option('--tls-key')!]) {
      assert.ok(values(service, 'LoadCredential').some((c) => `%d/${c.split(':')[0]}` === credential), `${credential} is a loaded credential`);
    }
  });

  it('gives the executable its private cache and the checkpoint folder, and nothing else to write', () => {
    assert.ok(values(service, 'Environment').includes(`XDG_CACHE_HOME=%C/${one('CacheDirectory')}`));
    assert.equal(one('CacheDirectoryMode'), '0700');
    assert.deepEqual(values(service, 'ReadWritePaths'), [dirname(option('--audit-checkpoint-file')!)]);
    for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['UMask', '0077']]) {
      assert.equal(one(key!), value, key);
    }
    // V8 compiles to machine code at run time.
    assert.deepEqual(values(service, 'MemoryDenyWriteExecute'), []);
  });

  it("uses only options that `serve` has", () => {
    const help = spawnSync(SERVER_BIN, ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    // The storage options (STORE) are explained once, after the commands.
    const serveUsage = help.stdout.split('  issuance-server admin')[0]! + help.stdout.slice(help.stdout.indexOf('STORE is '));
    for (const flag of exec.filter((a) => a.startsWith('--'))) assert.ok(serveUsage.includes(`[${flag} `) || serveUsage.includes(` ${flag} `), `serve has ${flag}`);
  });

  it('passes systemd-analyze verify (where systemd is installed)', function () {
    if (!hasSystemdAnalyze()) {
      console.log('      (systemd-analyze not installed: unit verification skipped)');
      return this.skip();
    }
    assert.deepEqual(verifyUnits([UNIT]), []);
  });
});
