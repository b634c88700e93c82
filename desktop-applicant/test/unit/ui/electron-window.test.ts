// The applicant window's options and what the renderer may load, navigate to and ask for.
import { RENDERER_CSP } from '@cert/common/node';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Protocol, Session, WebContents } from 'electron';
import { APP_ORIGIN, denyPermissions, guardContents, registerAppScheme, rendererResponse } from '../../../src/electron/security.ts';
import { applicantWindowOptions } from '../../../src/electron/window-options.ts';
import { FakeWebContents } from './helpers/electron-double.ts';

/** An event whose preventDefault the test can observe. */
const preventable = (url: string) => {
  const e = { url, prevented: false, preventDefault: () => (e.prevented = true) };
  return e;
};

describe('electron: window options and security guards', () => {
  it('the window isolates the renderer: context isolation, sandbox, no Node, web security, no webview', () => {
    const o = applicantWindowOptions('/app/dist/electron/preload.cjs');
    assert.deepEqual(
      { ...o.webPreferences },
      {
        preload: '/app/dist/electron/preload.cjs',
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        spellcheck: false,
      },
    );
    assert.equal(o.show, false, 'shown on ready-to-show only');
  });

  it('the app scheme is registered standard and secure (a real origin, a secure context)', () => {
    const schemes: unknown[] = [];
    registerAppScheme({ registerSchemesAsPrivileged: (s) => void schemes.push(...s) } as Pick<Protocol, 'registerSchemesAsPrivileged'>);
    assert.deepEqual(schemes, [{ scheme: 'app', privileges: { standard: true, secure: true } }]);
    assert.equal(APP_ORIGIN, 'app://applicant');
  });

  describe('the app scheme serves the renderer directory only, with the CSP', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'applicant-renderer-'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html>');
      writeFileSync(join(dir, 'notes.txt'), 'not served');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('index.html with the strict CSP header (the same policy as index.html’s meta tag)', async () => {
      const r = await rendererResponse(dir, 'app://applicant/');
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-security-policy'), RENDERER_CSP);
      assert.equal(r.headers.get('content-type'), 'text/html; charset=utf-8');
      const meta = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(readFileSync(new URL('../../../src/renderer/index.html', import.meta.url), 'utf8'));
      assert.equal(meta?.[1], RENDERER_CSP);
    });

    for (const [what, url] of [
      ['a path out of the directory', 'app://applicant/%2e%2e/%2e%2e/etc/passwd'],
      ['another host of the scheme', 'app://other/index.html'],
      ['a file type the renderer does not have', 'app://applicant/notes.txt'],
      ['a missing file', 'app://applicant/missing.js'],
    ]) {
      it(`404 for ${what}`, async () => assert.equal((await rendererResponse(dir, url!)).status, 404));
    }
  });

  it('navigation, redirects, webviews and new windows are refused', () => {
    const contents = new FakeWebContents();
    const logged: string[] = [];
    guardContents(contents as unknown as WebContents, (m) => logged.push(m));
    for (const event of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      const e = preventable('https://evil.example/');
      contents.emit(event, e);
      assert.equal(e.prevented, true, event);
    }
    assert.deepEqual(contents.windowOpenHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
    assert.equal(logged.length, 2, 'navigation and window attempts are logged');
  });

  it('every permission request and check is denied', () => {
    let request: ((c: unknown, p: string, cb: (ok: boolean) => void) => void) | null = null;
    let check: (() => boolean) | null = null;
    denyPermissions({ setPermissionRequestHandler: (h: typeof request) => (request = h), setPermissionCheckHandler: (h: typeof check) => (check = h) } as unknown as Session);
    for (const permission of ['notifications', 'media', 'geolocation', 'clipboard-read', 'openExternal']) {
      let answer: boolean | undefined;
      request!({}, permission, (ok) => (answer = ok));
      assert.equal(answer, false, permission);
    }
    assert.equal(check!(), false);
  });
});
