import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DocumentError, type DocumentErrorCode } from '../../src/documents/document-error.ts';
import type { DocumentRequest } from '../../src/documents/document-request.ts';
import { RenderPool } from '../../src/documents/render-pool.ts';
import { DOCUMENT_KINDS, sampleDocument } from '../../src/documents/sample-documents.ts';
import { pdfText } from './pdf-tools.ts';
import { holds } from './rendered-document.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

type Juminhyo = Extract<DocumentRequest, { kind: 'juminhyo' }>;

/** A 住民票 request whose verification code (printed on the page) tells the documents apart. */
function request(code: string, change: (request: Juminhyo) => void = () => {}): DocumentRequest {
  const req = sampleDocument('juminhyo', 1, code) as Juminhyo;
  change(req);
  return req;
}

function isDocumentError(code: DocumentErrorCode) {
  return (err: unknown) => err instanceof DocumentError && err.code === code;
}

/** Runs node with `args` in `cwd` and no inherited loader flags; rejects if it has not exited after `ms`. */
function runNode(args: string[], cwd: string, ms = 60_000): Promise<{ code: number | null; stderr: string }> {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${args.join(' ')} still running after ${ms} ms (a worker left alive?):\n${stderr}`));
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('documents/render-pool', function () {
  this.timeout(120_000);
  let dir: string;
  let pool: RenderPool;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'render-pool-test-'));
    pool = new RenderPool({ size: 2, maxQueue: 4 });
    await pool.ready();
  });
  after(async () => {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function textOf(name: string, pdf: Uint8Array): Promise<string> {
    const path = join(dir, `${name}.pdf`);
    writeFileSync(path, pdf);
    return pdfText(path);
  }

  it('renders documents of every kind on its workers, several at a time', async () => {
    assert.equal(pool.threadIds.length, 2);
    const requests = DOCUMENT_KINDS.map((kind, i) => sampleDocument(kind, 1, `AAAA-0000-0000-000${i}`));
    // At most 6 at once: 2 rendering and 4 waiting.
    const pdfs = [...(await Promise.all(requests.slice(0, 6).map((req) => pool.render(req)))), await pool.render(requests[6]!)];
    for (const [i, pdf] of pdfs.entries()) {
      const text = await textOf(`concurrent-${i}`, pdf);
      const { frame } = requests[i]!;
      for (const s of [frame.title, frame.subject, '令和8年11月24日', frame.verificationCode]) assert.ok(holds(text, s), `missing ${s} in:\n${text}`);
    }
  });

  it('brings issuedAt across the thread boundary as the same instant', async () => {
    const pdf = await pool.render(request('AAAA-0000-0000-0007', (req) => (req.frame.issuedAt = new Date('2019-04-30T15:00:00Z'))));
    assert.ok((await textOf('date', pdf)).includes('令和元年5月1日'), 'the Japanese date of that instant');
  });

  it('returns a missing glyph as a typed error and keeps its workers', async () => {
    const before = pool.threadIds;
    await assert.rejects(
      pool.render(request('AAAA-0000-0000-0008', (req) => (req.body.householdHead = '𠮷田 \u{1F600}'))),
      (err: DocumentError) => {
        assert.ok(isDocumentError('glyph_missing')(err));
        assert.deepEqual(err.glyphs, [{ char: '\u{1F600}', codePoint: 'U+1F600' }]);
        return true;
      },
    );
    await assert.rejects(pool.render(request('AAAA-0000-0000-0009', (req) => (req.frame.copies = 0))), isDocumentError('invalid_input'));
    await assert.rejects(
      pool.render(request('AAAA-0000-0000-0011', (req) => ((req.frame as { issuedAt: unknown }).issuedAt = '2026-11-24'))),
      isDocumentError('invalid_input'),
    );
    assert.deepEqual(pool.threadIds, before);
    assert.ok((await textOf('after-errors', await pool.render(request('AAAA-0000-0000-0010')))).includes('AAAA-0000-0000-0010'));
  });

  it('tells on the main thread which characters and sequences the font lacks', () => {
    // IPAmj Mincho has 𠮷 and 葛 with VS19 (U+E0102), but not 葛 with VS17 nor emoji.
    assert.deepEqual(pool.coverage.missingGlyphs(['山田 太郎', '𠮷田', '葛\u{E0102}城', '葛\u{E0100}城 \u{1F600}']), [
      { char: '葛\u{E0100}', codePoint: 'U+845B U+E0100' },
      { char: '\u{1F600}', codePoint: 'U+1F600' },
    ]);
  });

  it('refuses requests beyond its queue', async () => {
    const accepted = Array.from({ length: 6 }, (_, i) => pool.render(request(`BBBB-0000-0000-000${i}`)));
    await assert.rejects(pool.render(request('BBBB-0000-0000-0009')), isDocumentError('queue_full'));
    assert.equal((await Promise.all(accepted)).length, 6, '2 rendering and 4 waiting all complete');
  });

  it('replaces a crashed worker, failing only the request it was rendering', async () => {
    const crashing = new RenderPool({ size: 2, worker: { url: new URL('./fixtures/crashing-render-worker.ts', import.meta.url) } });
    try {
      await crashing.ready();
      const originals = crashing.threadIds;
      const crash = crashing.render(request('CRASH'));
      const others = ['CCCC-0000-0000-0001', 'CCCC-0000-0000-0002', 'CCCC-0000-0000-0003'].map((code) => crashing.render(request(code)));
      await assert.rejects(crash, (err: DocumentError) => {
        assert.ok(isDocumentError('worker_crashed')(err));
        assert.match(err.message, /crash requested by the test/);
        return true;
      });
      assert.equal((await Promise.all(others)).length, 3, 'the running and the waiting requests complete');
      assert.equal(crashing.threadIds.length, 2);
      // The surviving original comes first in line; once it is gone too, only replacements can answer.
      await assert.rejects(crashing.render(request('CRASH')), isDocumentError('worker_crashed'));
      assert.ok(crashing.threadIds.every((id) => !originals.includes(id)), `${crashing.threadIds} vs ${originals}`);
      assert.ok((await textOf('replacement', await crashing.render(request('CCCC-0000-0000-0004')))).includes('CCCC-0000-0000-0004'));
    } finally {
      await crashing.close();
    }
  });

  it('starts its worker through tsx when the process registered tsx the way the bin does', async () => {
    const out = join(dir, 'dev.pdf');
    // From a foreign working directory, so that nothing resolves relative to the checkout by accident.
    const { code, stderr } = await runNode([fixture('dev-start.mjs'), out], dir);
    assert.equal(code, 0, stderr);
    assert.ok((await pdfText(out)).includes('DEV0-TSX0-WORK-ER00'));
  });

  it('runs from a CommonJS bundle with the worker code and wasm injected, as a single executable would', async () => {
    const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'error' } as const;
    await build({ ...common, entryPoints: [fileURLToPath(new URL('../../src/documents/render-worker.ts', import.meta.url))], outfile: join(dir, 'render-worker.cjs') });
    await build({ ...common, entryPoints: [fixture('bundled-main.ts')], outfile: join(dir, 'main.cjs') });
    copyFileSync(createRequire(import.meta.url).resolve('harfbuzzjs/dist/harfbuzz-subset.wasm'), join(dir, 'harfbuzz-subset.wasm'));
    const { code, stderr } = await runNode([join(dir, 'main.cjs'), dir], dir);
    assert.equal(code, 0, stderr);
    assert.ok((await pdfText(join(dir, 'out.pdf'))).includes('SEA0-BUND-LE00-TEST'));
  });

  it('ends every worker on close, failing what was running or waiting', async () => {
    const pending = Promise.allSettled(Array.from({ length: 4 }, (_, i) => pool.render(request(`DDDD-0000-0000-000${i}`))));
    await pool.close();
    for (const outcome of await pending) assert.ok(outcome.status === 'rejected' && isDocumentError('pool_closed')(outcome.reason), String(outcome));
    assert.deepEqual(pool.threadIds, [], 'every worker has exited');
    await assert.rejects(pool.render(request('DDDD-0000-0000-0009')), isDocumentError('pool_closed'));
  });
});
