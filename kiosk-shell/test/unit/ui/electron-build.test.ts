// What the Electron shell ships: the kiosk:// protocol serving the renderer with the CSP, the
// bundles (a sandboxed preload may require nothing but electron; the renderer names no Node
// global), and the CSP <meta> matching the header.
import { RENDERER_CSP } from '@cert/common/node';
import { buildApp } from '@cert/scripts/build';
import { REPO_ROOT } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as nodeUrl from 'node:url';
import { rendererResponse } from '../../../src/electron/kiosk-protocol.ts';

describe('Electron kiosk shell: protocol and bundles', () => {
  it('kiosk://app serves the renderer files with the CSP and nothing outside them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-protocol-'));
    try {
      const renderer = join(dir, 'renderer');
      mkdirSync(renderer);
      writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>kiosk</title>');
      writeFileSync(join(renderer, 'app.js'), 'void 0;');
      writeFileSync(join(renderer, 'notes.txt'), 'not a renderer file type');
      writeFileSync(join(dir, 'secret.js'), 'secret');
      const index = await rendererResponse(renderer, 'kiosk://app/index.html');
      assert.equal(index.status, 200);
      assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(index.headers.get('content-security-policy'), RENDERER_CSP);
      assert.equal(await index.text(), '<!doctype html><title>kiosk</title>');
      assert.equal((await rendererResponse(renderer, 'kiosk://app/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
      for (const url of ['kiosk://app/../secret.js', 'kiosk://app/%2e%2e/secret.js', 'kiosk://app/..%2fsecret.js', 'kiosk://other/index.html', 'kiosk://app/notes.txt', 'kiosk://app/missing.js', 'not a url']) {
        assert.equal((await rendererResponse(renderer, url)).status, 404, url);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const dist = join(REPO_ROOT, 'kiosk-shell', 'dist');
  before(async function () {
    this.timeout(60_000);
    await buildApp('kiosk-shell', { electron: true });
  });

  it('the preload bundle runs as Electron runs a sandboxed preload and exposes the transport, nothing else', async () => {
    const source = readFileSync(join(dist, 'electron', 'preload.cjs'), 'utf8');
    // Electron wraps a sandboxed preload in a function of exactly these parameters (no
    // __filename, no __dirname) and its require knows only these modules.
    const sandboxModules = new Set(['electron', 'events', 'timers', 'url', 'node:events', 'node:timers', 'node:url']);
    const exposed = new Map<string, unknown>();
    const invoked: unknown[][] = [];
    const listeners = new Map<string, Set<(...a: unknown[]) => void>>();
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
      ipcRenderer: {
        invoke: async (...a: unknown[]) => (invoked.push(a), { ok: true, value: 'pong' }),
        on: (ch: string, l: (...a: unknown[]) => void) => listeners.set(ch, (listeners.get(ch) ?? new Set()).add(l)),
        removeListener: (ch: string, l: (...a: unknown[]) => void) => listeners.get(ch)?.delete(l),
      },
    };
    const sandboxRequire = (name: string) => {
      if (!sandboxModules.has(name)) throw new Error(`module not found in a sandboxed preload: ${name}`);
      if (name === 'electron') return electron;
      // Generous: Node's own url module, where Electron has a polyfill.
      if (name.endsWith('url')) return nodeUrl;
      throw new Error(`the kiosk preload has no reason to load ${name}`);
    };
    const module = { exports: {} };
    const run = new Function('require', 'process', 'Buffer', 'global', 'setImmediate', 'clearImmediate', 'exports', 'module', source);
    assert.doesNotThrow(() => run(sandboxRequire, {}, undefined, {}, setImmediate, clearImmediate, module.exports, module), 'the preload must run inside Electron\'s sandboxed preload wrapper');
    assert.deepEqual([...exposed.keys()], ['kioskBridge']);
    const bridge = exposed.get('kioskBridge') as { call(c: string, a: unknown[]): Promise<unknown>; on(e: string, l: (p: unknown) => void): () => void };
    assert.deepEqual(await bridge.call('kiosk.info', []), { ok: true, value: 'pong' });
    assert.deepEqual(invoked, [['kiosk-ipc', 'kiosk.info', []]]);
    const got: unknown[] = [];
    const off = bridge.on('progress', (p) => got.push(p));
    for (const l of listeners.get('kiosk-event') ?? []) {
      l({}, { event: 'progress', payload: 1 });
      l({}, { event: 'other', payload: 2 });
    }
    off();
    assert.deepEqual(got, [1]);
    assert.equal(listeners.get('kiosk-event')?.size, 0);
  });

  it('the renderer bundle names no Node global; the CSP meta is the header policy; no inline script or remote content', () => {
    const app = readFileSync(join(dist, 'renderer', 'app.js'), 'utf8');
    for (const nodeOnly of [/\brequire\(/, /(?<![\w$.])process\./, /(?<![\w$.])Buffer\b/, /\bnode:/]) assert.doesNotMatch(app, nodeOnly);
    const html = readFileSync(join(dist, 'renderer', 'index.html'), 'utf8');
    assert.equal(/http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1], RENDERER_CSP);
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, 'no inline script');
    assert.doesNotMatch(readFileSync(join(dist, 'renderer', 'styles.css'), 'utf8'), /url\(\s*["']?https?:/, 'no remote content in the styles');
  });
});
