// The web-mode entry point as a process (its argument parsing is in unit/ui/kiosk-ui-logic.test.ts).
import { buildApp } from '@cert/scripts/build';
import { REPO_ROOT } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('kiosk web-mode command', function () {
  this.timeout(60_000);

  it('prints the kiosk URL, serves the renderer with the CSP, stops on SIGTERM', async () => {
    await buildApp('kiosk-shell');
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-web-main-'));
    writeFileSync(join(dir, 'credential'), 'x');
    const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'kiosk-shell/src/host/web-main.ts'), '--server', 'http://127.0.0.1:9', '--credential-file', join(dir, 'credential'), '--printer', 'ipp://127.0.0.1:9/ipp/print', '--payment', 'free', '--url-file', join(dir, 'url'), '--state-dir', join(dir, 'state')], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        let err = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /kiosk UI: (\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        child.once('exit', (code) => reject(new Error(`web-main exited with ${code}: ${err}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]{43}$/);
      const res = await fetch(new URL('/', url));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      assert.equal(await exit, 128 + 15);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
