// A kiosk says how it takes the fee: a paid kiosk without a working payment device does not
// start, and printing for free is an explicit choice.
import { REPO_ROOT } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KioskConfigError, resolveKioskConfig } from '../../src/host/kiosk-config.ts';
import { createKioskHost } from '../../src/host/kiosk-host.ts';
import { parseHeadlessArgs, UsageError } from '../../src/headless/cli.ts';
import { parseWebArgs, WebUsageError } from '../../src/host/web-main.ts';

describe('kiosk payment mode', () => {
  const cred = join(REPO_ROOT, 'package.json');
  const base = ['--server', 'http://127.0.0.1:9', '--credential-file', cred, '--printer', 'ipp://127.0.0.1:9/ipp/print'];
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-pay-mode-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the command lines want --payment; cash wants its serial port; free is free', () => {
    assert.throws(() => parseWebArgs(base), (e: unknown) => e instanceof WebUsageError && /missing --payment/.test(e.message));
    assert.throws(() => parseWebArgs([...base, '--payment', 'cash']), /--payment cash needs --cash-serial PATH/);
    assert.throws(() => parseWebArgs([...base, '--payment', 'coins']), /--payment must be cash or free/);
    assert.deepEqual(parseWebArgs([...base, '--payment', 'free'])?.host.payment, { mode: 'free' });
    assert.deepEqual(parseWebArgs([...base, '--payment', 'cash', '--cash-serial', '/dev/ttyUSB0', '--payment-timeout-seconds', '60'])?.host.payment, {
      mode: 'cash',
      device: 'cctalk',
      serialPath: '/dev/ttyUSB0',
      idleTimeoutSeconds: 60,
    });
    assert.throws(() => parseHeadlessArgs(base), (e: unknown) => e instanceof UsageError && /missing --payment/.test(e.message));
    assert.equal(parseHeadlessArgs([...base, '--payment', 'cash', '--cash-serial', '/dev/ttyS0'])?.payment.mode, 'cash');
  });

  it('a configuration file without payment is refused with what to write', () => {
    const raw = { serverUrl: 'http://127.0.0.1:9', credentialFile: cred, printerUri: 'ipp://127.0.0.1:9/ipp/print' };
    assert.throws(() => resolveKioskConfig(raw, 'kiosk-config.json', dir), (e: unknown) => e instanceof KioskConfigError && /payment: must say how the kiosk takes the fee/.test(e.message));
  });

  it('a paid kiosk whose cash unit cannot be opened does not start, and leaves its state directory free', async () => {
    const config = resolveKioskConfig({ serverUrl: 'http://127.0.0.1:9', credentialFile: cred, printerUri: 'ipp://127.0.0.1:9/ipp/print', stateDir: join(dir, 'state'), payment: { mode: 'cash', serialPath: join(dir, 'no-such-port') } }, 'test', dir);
    await assert.rejects(createKioskHost(config), (e: unknown) => e instanceof KioskConfigError && /cash unit on .*no-such-port cannot be used/.test(e.message) && /"mode": "free"/.test(e.message));
    // The lock was released: a free kiosk can use the directory at once.
    const free = await createKioskHost({ ...config, payment: { mode: 'free' } });
    assert.equal((await free.handlers['kiosk.info']()).payment, 'free');
    await free.close();
  });
});
