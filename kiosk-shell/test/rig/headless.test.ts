import { REPO_ROOT, startVirtualPrinter, type VirtualPrinter } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIssuanceRig, type IssuanceRig } from './helpers/issuance-rig.ts';

const BIN = join(REPO_ROOT, 'node_modules/.bin/kiosk-shell');

/** Every regular file under `dir`. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((p) => statSync(p).isFile());
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('kiosk-shell headless', function () {
  this.timeout(60_000);
  const children: ChildProcess[] = [];
  let work: string;

  /** Spawns the installed bin, feeds `input`, resolves when it exits. */
  const run = (args: string[], input: string, env: NodeJS.ProcessEnv = {}, cwd = work): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(BIN, args, { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
      child.stdin!.end(input);
    });

  const stateHome = process.env['XDG_STATE_HOME'];
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'kiosk-headless-'));
    // The kiosks started here keep their default state directory (print journal) under `work`, not in the home directory.
    process.env['XDG_STATE_HOME'] = join(work, 'state');
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (stateHome === undefined) delete process.env['XDG_STATE_HOME'];
    else process.env['XDG_STATE_HOME'] = stateHome;
    rmSync(work, { recursive: true, force: true });
  });

  describe('usage', () => {
    it('the installed command prints usage and exits 2 on a usage error', async () => {
      const r = await run(['headless', '--server', 'http://127.0.0.1:1'], '');
      assert.equal(r.code, 2);
      assert.match(r.stderr, /missing --credential-file, --printer/);
      assert.match(r.stderr, /Usage: kiosk-shell headless/);
      assert.equal(r.stdout, '');
    });
  });

  describe('end to end', () => {
    let rig: IssuanceRig;
    let vp: VirtualPrinter;

    before(async () => {
      [rig, vp] = await Promise.all([startIssuanceRig(), startVirtualPrinter({ name: 'Headless Test' })]);
    });
    after(async () => {
      await Promise.allSettled([rig?.close(), vp?.stop()]);
    });

    it('reads two receipts from stdin, prints the approved one, writes two JSON lines, exits 0, leaves no document on disk', async () => {
      const [approved, declined] = [await rig.apply(), await rig.apply()];
      rig.answer = (req) => (req.receiptNumber === approved.receiptNumber ? 'approve' : 'decline');
      const credFile = join(work, 'kiosk.credential');
      writeFileSync(credFile, `${rig.kiosks[1]!.credential}\n`, { mode: 0o600 });
      // The kiosk's own working and temp directories, inspected afterwards.
      const kioskCwd = join(work, 'kiosk-cwd');
      const kioskTmp = join(work, 'kiosk-tmp');
      mkdirSync(kioskCwd);
      mkdirSync(kioskTmp);
      const before = vp.documents().length;

      const t0 = performance.now();
      const r = await run(
        ['headless', '--server', rig.endpoint.baseUrl, '--credential-file', credFile, '--printer', vp.uri, '--payment', 'free', '--decision-timeout-seconds', '20', '--print-timeout-seconds', '20'],
        `# two receipts\n${approved.receiptNumber}\n\n${declined.receiptNumber.replace(/(\d{4})(?=\d)/g, '$1-')}\n`,
        { TMPDIR: kioskTmp, TMP: kioskTmp, TEMP: kioskTmp },
        kioskCwd,
      );
      const elapsed = performance.now() - t0;
      assert.equal(r.code, 0, r.stderr);

      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 2, r.stdout);
      const [first, second] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(first!.receiptNumber, approved.receiptNumber);
      assert.equal(first!.status, 'printed', String(first!.error));
      assert.equal(typeof first!.jobId, 'number');
      assert.deepEqual(Object.keys(first!).sort(), ['jobId', 'receiptNumber', 'status']);
      assert.equal(second!.receiptNumber, declined.receiptNumber);
      assert.equal(second!.status, 'declined');
      assert.equal(second!.jobId, undefined);

      const docs = vp.documents();
      assert.equal(docs.length, before + 1);
      assert.equal(docs.at(-1)!.jobId, first!.jobId);
      assert.equal(await rig.applicationStatus(approved.applicationId), 'printed');
      assert.equal(await rig.applicationStatus(declined.applicationId), 'submitted');

      // Logs go to stderr, outcomes only to stdout.
      assert.match(r.stderr, /printer ipp:\/\/localhost:\d+\/ipp\/print: ready/);
      assert.match(r.stderr, /end of input after 2 receipt\(s\)/);

      // Nothing the kiosk process left behind is a PDF.
      const left = [...filesUnder(kioskCwd), ...filesUnder(kioskTmp)];
      for (const f of left) assert.notEqual(readFileSync(f).subarray(0, 5).toString('latin1'), '%PDF-', `${f} is a PDF`);
      assert.deepEqual(filesUnder(kioskCwd), [], 'the kiosk must not write into its working directory');
      console.log(`      (headless process for 2 receipts: ${elapsed.toFixed(0)} ms, ${left.length} file(s) in its temp dir, none a PDF)`);
    });

    it('SIGTERM while waiting for the applicant abandons the receipt, writes its line and exits 143', async () => {
      const app = await rig.apply();
      rig.answer = () => 'ignore';
      const credFile = join(work, 'kiosk.credential');
      const child = spawn(BIN, ['headless', '--server', rig.endpoint.baseUrl, '--credential-file', credFile, '--printer', vp.uri, '--payment', 'free'], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(child);
      let stdout = '';
      let stderr = '';
      let signalled = false;
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        // Once: a second signal ends the process at once, by design.
        if (!signalled && /phase awaiting_confirmation/.test(stderr)) {
          signalled = true;
          child.kill('SIGTERM');
        }
      });
      // stdin stays open: the process is not at EOF when the signal comes.
      child.stdin!.write(`${app.receiptNumber}\n`);
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 143, stderr);
      const out = stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string });
      assert.deepEqual(out.map((o) => o.status), ['abandoned']);
      assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    });

    it('a printer that is down is reported per receipt, and the process still exits 0', async () => {
      const app = await rig.apply();
      const credFile = join(work, 'kiosk.credential');
      const r = await run(['headless', '--server', rig.endpoint.baseUrl, '--credential-file', credFile, '--printer', 'ipp://localhost:1/ipp/print', '--payment', 'free'], `${app.receiptNumber}\n12345\n`);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; error?: string });
      assert.deepEqual(out.map((o) => o.status), ['printer_unavailable', 'receipt_malformed']);
      assert.match(out[0]!.error!, /cannot be reached/);
      assert.equal(await rig.applicationStatus(app.applicationId), 'submitted');
    });
  });
});
