// The pcscd rig: one pcscd per machine, ref-counted leases, stale and foreign pcscd handling, >2 slots.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PCSCD_PID_FILE, leaseReaderSlots, processAlive, restartPcscd, runningPcscd, stopPcscd } from '../../../src/rig/pcscd-rig.ts';
import { ensureTestPki } from '../../../src/pki/test-pki.ts';
import { cardArgsFromPki, startCardProcess, type CardProcess } from '../../../src/virtual-card/index.ts';

const run = promisify(execFile);

async function waitUntil(test: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('pcscd rig', function () {
  this.timeout(30_000);
  const spawned: ChildProcess[] = [];
  const dirs: string[] = [];

  afterEach(async () => {
    await stopPcscd();
    for (const c of spawned.splice(0)) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => c.once('exit', r));
      }
    }
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('shares one pcscd between leases, hands out distinct slots and stops it with the last release', async () => {
    const a = await leaseReaderSlots(1);
    const b = await leaseReaderSlots(2);
    assert.equal(a.pcscd.pid, b.pcscd.pid);
    const names = [...a.slots, ...b.slots].map((s) => s.readerName);
    assert.equal(new Set(names).size, 3);
    assert.deepEqual(new Set([...a.slots, ...b.slots].map((s) => s.vpcdPort)).size, 3);
    const pid = a.pcscd.pid;
    await a.release();
    await a.release(); // idempotent
    assert.ok(processAlive(pid), 'still running for the second lease');
    await b.release();
    assert.equal(runningPcscd(), undefined);
    assert.ok(!processAlive(pid), 'stopped');
    assert.ok(!existsSync(PCSCD_PID_FILE), 'pcscd removed its pid file');
  });

  it('declares more than two slots with a driver copy per reader pair', async () => {
    const lease = await leaseReaderSlots(6);
    assert.equal(lease.slots.length, 6);
    const { stdout } = await run('pcsc_scan', ['-r']);
    for (const s of lease.slots) assert.ok(stdout.includes(s.readerName), `${s.readerName} in\n${stdout}`);
    assert.deepEqual(lease.slots.map((s) => s.readerName).slice(0, 4), ['Virtual PCD 00 00', 'Virtual PCD 00 01', 'Virtual PCD B 00 00', 'Virtual PCD B 00 01']);
    await lease.release();
  });

  it('kills a pcscd left behind by a crashed run of the rig', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rig-stale-'));
    dirs.push(dir);
    const confDir = join(dir, 'reader.conf.d');
    mkdirSync(confDir);
    writeFileSync(join(confDir, 'vpcd'), 'FRIENDLYNAME "Stale PCD"\nDEVICENAME /dev/null:0\nLIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID 0\n');
    const stale = spawn('pcscd', ['-f', '-c', confDir], { stdio: 'ignore' });
    spawned.push(stale);
    await waitUntil(() => existsSync(PCSCD_PID_FILE) && parseInt(readFileSync(PCSCD_PID_FILE, 'utf8'), 10) === stale.pid, 'stale pcscd');
    const deadNode = spawnSync('true').pid; // an owner process that no longer exists
    writeFileSync(join(dir, 'owner.json'), JSON.stringify({ nodePid: deadNode, pcscdPid: stale.pid, confDir }));
    const lease = await leaseReaderSlots(1, { dir });
    assert.ok(!processAlive(stale.pid!), 'stale pcscd killed');
    assert.notEqual(lease.pcscd.pid, stale.pid);
    await lease.release();
  });

  it('restarts pcscd on the same ports; a running card process reconnects by itself', async () => {
    const manifest = await ensureTestPki();
    const lease = await leaseReaderSlots(1);
    const slot = lease.slots[0]!;
    let card: CardProcess | undefined;
    try {
      card = await startCardProcess(slot.vpcdPort, cardArgsFromPki(manifest, Object.keys(manifest.residents)[0]!));
      const before = lease.pcscd.pid;
      const t0 = performance.now();
      const restarted = await restartPcscd();
      assert.notEqual(restarted.pid, before);
      assert.equal(lease.pcscd.pid, restarted.pid);
      await waitUntil(() => card!.insertedCount() === 2, 'the card to reconnect', 10_000);
      const reinsertMs = Math.round(performance.now() - t0);
      const { stdout } = await run('opensc-tool', ['-r', slot.readerName, '-a']);
      assert.match(stdout, /3b:e0:00:ff:81:31:fe:45:14/i);
      assert.match(card.stderr(), /vpcd dropped the card; reconnecting/);
      console.log(`      (pcscd restart → card back in the slot: ${reinsertMs} ms)`);
    } finally {
      await card?.stop();
      await lease.release();
    }
    assert.equal(runningPcscd(), undefined, 'the last release still stops the restarted pcscd');
  });

  it("refuses to touch a pcscd it did not start (only one per machine)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rig-foreign-'));
    dirs.push(dir);
    const foreign = spawn('pcscd', ['-f', '-c', dir], { stdio: 'ignore' });
    spawned.push(foreign);
    await waitUntil(() => existsSync(PCSCD_PID_FILE) && parseInt(readFileSync(PCSCD_PID_FILE, 'utf8'), 10) === foreign.pid, 'foreign pcscd');
    await assert.rejects(leaseReaderSlots(1), /not started by this rig is running \(pid \d+/);
    assert.ok(processAlive(foreign.pid!), 'left alone');
  });
});
