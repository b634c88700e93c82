// The runtime side of embedded assets (src/runtime/single-executable.ts) and the build's extra
// bundles, through a small test executable: a main script that starts an embedded worker bundle
// from its unpacked file and from its source, each worker reading an embedded file.
//
//   npx mocha --no-config --node-option import=tsx --timeout 300000 issuance-server/test/sea/embedded-assets.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { buildExecutable } from '@cert/scripts/single-executable';
import { CACHE_FOLDER, embeddedAsset, embeddedAssetFile, isSingleExecutable } from '../../src/runtime/single-executable.ts';
import { REPO_ROOT } from '../cli/cli-harness.ts';

const FIXTURES = join(REPO_ROOT, 'issuance-server/test/sea/fixtures');

describe('single executable: embedded assets and worker bundles', function () {
  this.timeout(60_000);

  it('outside the executable, says so and hands out nothing', () => {
    assert.equal(isSingleExecutable(), false);
    assert.equal(embeddedAsset('anything'), undefined);
    assert.equal(embeddedAssetFile('anything'), undefined);
  });

  it('inside, a worker bundle starts from its unpacked file and from its source, and reaches the assets', async function () {
    this.timeout(600_000);
    const build = await buildExecutable({
      main: join(FIXTURES, 'worker-host.ts'),
      output: join(REPO_ROOT, '.test-output/sea', `worker-host-${process.platform}-${process.arch}`),
      bundles: [{ key: 'echo-worker.cjs', entry: join(FIXTURES, 'echo-worker.ts') }],
      files: [{ key: 'greeting.txt', path: join(FIXTURES, 'greeting.txt') }],
    });
    const tmp = mkdtempSync(join(tmpdir(), 'issuance-sea-assets-'));
    try {
      const exe = join(tmp, basename(build.output));
      copyFileSync(build.output, exe);
      const r = spawnSync(exe, [], { cwd: tmp, env: { PATH: tmp, HOME: tmp, XDG_CACHE_HOME: join(tmp, 'cache') }, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const [main, viaFile, viaSource] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const workerFile = main!.file as string;
      assert.equal(dirname(dirname(workerFile)), join(tmp, 'cache', CACHE_FOLDER));
      assert.equal(basename(workerFile), 'echo-worker.cjs');
      assert.equal(statSync(workerFile).mode & 0o777, 0o600);
      assert.match(readFileSync(workerFile, 'utf8'), /greeting\.txt/);
      const greeting = readFileSync(join(FIXTURES, 'greeting.txt'), 'utf8');
      for (const [report, via] of [[viaFile, 'file'], [viaSource, 'source']] as const) {
        assert.equal(report!.via, via);
        assert.equal(report!.sea, true, `a worker started from its ${via} knows it runs in the executable`);
        assert.equal(report!.greeting, greeting);
        assert.equal(readFileSync(report!.greetingFile as string, 'utf8'), greeting);
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
