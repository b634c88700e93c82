// The Electron shell's lockdown, driven through a double of the electron module: window
// options, guards, swallowed shortcuts, close refusal and admin exit, IPC sender checks, crash
// reload, display-sleep blocker, single instance, configuration errors.
import { dammCheckDigit } from '@cert/common';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKioskApp, type KioskApp } from '../../../src/electron/kiosk-app.ts';
import { KIOSK_EVENT_CHANNEL, KIOSK_INVOKE_CHANNEL } from '../../../src/electron/ipc-names.ts';
import { KIOSK_URL } from '../../../src/electron/kiosk-protocol.ts';
import { fakeElectron, fakeEvent, type FakeElectron, type FakeWebContents } from './helpers/fake-electron.ts';

const ADMIN_CODE = '13579246';

describe('Electron kiosk shell (electron double)', () => {
  let dir: string;
  let f: FakeElectron;
  let kiosk: KioskApp;
  let logs: string[];

  const config = () => ({
    // Nothing listens there: these tests never reach a server or a printer.
    serverUrl: 'http://127.0.0.1:9',
    credentialFile: join(dir, 'credential'),
    printerUri: 'ipp://127.0.0.1:9/ipp/print',
    storeName: 'コンビニ テスト駅前店',
    adminCode: ADMIN_CODE,
    stateDir: join(dir, 'state'),
    payment: { mode: 'free' },
  });
  const start = async (options: { config?: object | null; env?: Record<string, string>; singleInstance?: boolean } = {}) => {
    f = fakeElectron(dir, { singleInstance: options.singleInstance ?? true });
    const file = join(dir, 'kiosk-config.json');
    rmSync(file, { force: true });
    if (options.config !== null) writeFileSync(file, JSON.stringify(options.config ?? config()));
    logs = [];
    kiosk = startKioskApp(f.module, { rendererDir: join(dir, 'renderer'), preloadPath: '/opt/kiosk/dist/electron/preload.cjs', env: options.env ?? {}, log: (l) => logs.push(l), reloadDelayMs: 0 });
    await kiosk.ready;
    return f.windows[0];
  };
  const call = (channel: string, args: unknown[], sender?: { sender: FakeWebContents; senderFrame: { url: string; parent: unknown } | null }) => {
    const win = f.windows[0]!;
    const event = sender ?? { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    return f.ipcHandlers.get(KIOSK_INVOKE_CHANNEL)!(event, channel, args) as Promise<{ ok: boolean; value?: unknown; error?: { code: string; message: string } }>;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-electron-'));
    writeFileSync(join(dir, 'credential'), 'kiosk-secret');
  });
  afterEach(async () => {
    await kiosk?.exit();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one fullscreen kiosk window: sandboxed, isolated, no Node, no devtools, no menu, no display sleep', async () => {
    const win = (await start())!;
    const o = win.options as { kiosk: boolean; fullscreen: boolean; frame: boolean; show: boolean; webPreferences: Record<string, unknown> };
    assert.equal(o.kiosk, true);
    assert.equal(o.fullscreen, true);
    assert.equal(o.frame, false);
    assert.equal(o.show, false);
    assert.deepEqual(
      {
        preload: o.webPreferences['preload'],
        contextIsolation: o.webPreferences['contextIsolation'],
        sandbox: o.webPreferences['sandbox'],
        nodeIntegration: o.webPreferences['nodeIntegration'],
        nodeIntegrationInSubFrames: o.webPreferences['nodeIntegrationInSubFrames'],
        webSecurity: o.webPreferences['webSecurity'],
        devTools: o.webPreferences['devTools'],
        webviewTag: o.webPreferences['webviewTag'],
      },
      { preload: '/opt/kiosk/dist/electron/preload.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInSubFrames: false, webSecurity: true, devTools: false, webviewTag: false },
    );
    assert.deepEqual(win.loaded, [KIOSK_URL]);
    assert.deepEqual(f.menus, [null]);
    assert.deepEqual(f.blockers, ['prevent-display-sleep']);
    assert.deepEqual(f.schemes, [{ scheme: 'kiosk', privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false, allowServiceWorkers: false, bypassCSP: false, stream: false } }]);
    assert.ok(f.protocolHandlers.has('kiosk'));
    assert.deepEqual(f.app.switches, [['disable-pinch'], ['overscroll-history-navigation', '0']]);
    assert.equal(win.shown, false);
    win.emit('ready-to-show');
    assert.equal(win.shown, true);
    win.webContents.emit('did-finish-load');
    assert.deepEqual(win.webContents.zoomLimits, [1, 1]);
  });

  it('swallows every shortcut that reloads, closes, zooms, prints, navigates or opens devtools; typing passes', async () => {
    const win = (await start())!;
    const prevented = (input: { key: string; control?: boolean; alt?: boolean; meta?: boolean; shift?: boolean }) => {
      const e = fakeEvent();
      win.webContents.emit('before-input-event', e, { type: 'keyDown', control: false, alt: false, meta: false, shift: false, ...input });
      return e.defaultPrevented;
    };
    const swallowed = [
      { key: 'r', control: true },
      { key: 'R', control: true, shift: true },
      { key: 'r', meta: true },
      { key: 'F5' },
      { key: 'w', control: true },
      { key: 'F4', alt: true },
      { key: 'F4', control: true },
      { key: 'F11' },
      { key: 'F12' },
      { key: 'I', control: true, shift: true },
      { key: 'i', meta: true, alt: true },
      { key: 'Escape' },
      { key: 'q', control: true },
      { key: 'p', control: true },
      { key: '+', control: true },
      { key: 'ArrowLeft', alt: true },
      { key: 'BrowserBack' },
      { key: 'ContextMenu' },
    ];
    for (const k of swallowed) assert.equal(prevented(k), true, `not swallowed: ${JSON.stringify(k)}`);
    for (const k of [{ key: '7' }, { key: 'Enter' }, { key: 'Tab' }, { key: 'Tab', shift: true }, { key: 'Backspace' }, { key: ' ' }, { key: 'A', shift: true }, { key: 'ArrowDown' }]) {
      assert.equal(prevented(k), false, `swallowed: ${JSON.stringify(k)}`);
    }
  });

  it('denies navigation, new windows, webviews, permissions and every request off the kiosk:// origin', async () => {
    const win = (await start())!;
    const wc = win.webContents;
    for (const [event, url] of [
      ['will-navigate', 'https://evil.example/'],
      ['will-redirect', 'https://evil.example/'],
      ['will-attach-webview', ''],
    ] as const) {
      const e = fakeEvent();
      wc.emit(event, e, url);
      assert.equal(e.defaultPrevented, true, event);
    }
    assert.deepEqual(wc.windowOpenHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
    let granted: boolean | null = null;
    f.permissionRequest!(wc, 'media', (g) => (granted = g));
    assert.equal(granted, false);
    assert.equal(f.permissionCheck!(wc, 'geolocation', 'kiosk://app'), false);
    assert.equal(f.devicePermission!({}), false);
    const cancelled = (url: string) => {
      let cancel: boolean | null = null;
      f.beforeRequest!({ url }, (r) => (cancel = r.cancel));
      return cancel;
    };
    assert.equal(cancelled('https://cdn.example/x.js'), true);
    assert.equal(cancelled('http://127.0.0.1:8443/api/v1/health'), true);
    assert.equal(cancelled('kiosk://app/app.js'), false);
    assert.equal(cancelled('data:,'), false);
    assert.ok(logs.some((l) => l.includes('denied navigation to https://evil.example/')));
  });

  it('closes devtools if they open, crashes a hung renderer, reloads a crashed one', async () => {
    const win = (await start())!;
    win.webContents.emit('devtools-opened');
    assert.equal(win.webContents.devToolsClosed, 1);
    win.emit('unresponsive');
    assert.equal(win.webContents.crashes, 1);
    const reload = win.nextLoad();
    win.webContents.emit('render-process-gone', fakeEvent(), { reason: 'crashed', exitCode: 139 });
    assert.equal(await reload, KIOSK_URL);
    assert.deepEqual(win.loaded, [KIOSK_URL, KIOSK_URL]);
    assert.ok(logs.some((l) => l.includes('renderer gone (crashed, exit code 139)')));
  });

  it('refuses to close; a wrong admin code changes nothing; the right one quits and lets the window close', async () => {
    const win = (await start())!;
    const close = () => {
      const e = fakeEvent();
      win.emit('close', e);
      return e.defaultPrevented;
    };
    assert.equal(close(), true, 'closed without an admin exit');
    const wrong = await call('kiosk.adminExit', ['00000000']);
    assert.deepEqual(wrong, { ok: false, error: { code: 'admin_code_wrong', message: 'wrong admin code' } });
    // A right code starts leaving one setImmediate after its reply; let that turn pass.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(!logs.includes('leaving the kiosk shell'));
    assert.equal(f.app.quits, 0);
    assert.equal(close(), true);
    const quit = once(f.app, 'quit');
    assert.deepEqual(await call('kiosk.adminExit', [ADMIN_CODE]), { ok: true, value: null });
    await quit;
    assert.equal(f.app.quits, 1);
    assert.equal(close(), false, 'the admin exit must let the window close');
  });

  it('answers IPC only from the kiosk window’s main frame on kiosk://, validates arguments, forwards progress events', async () => {
    const win = (await start())!;
    const info = await call('kiosk.info', []);
    assert.equal(info.ok, true);
    assert.equal((info.value as { storeName: string }).storeName, 'コンビニ テスト駅前店');
    const stranger = new (f.module.BrowserWindow as unknown as new (o: object) => { webContents: FakeWebContents })({}).webContents;
    const refusals = [
      { sender: stranger, senderFrame: stranger.mainFrame },
      { sender: win.webContents, senderFrame: { url: 'kiosk://app/index.html', parent: win.webContents.mainFrame } },
      { sender: win.webContents, senderFrame: { url: 'https://evil.example/', parent: null } },
      { sender: win.webContents, senderFrame: null },
    ];
    for (const sender of refusals) {
      const r = await call('kiosk.info', [], sender);
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, 'untrusted_sender');
    }
    assert.equal((await call('kiosk.issue', [{ receipt: 1 }])).error?.code, 'invalid_call');
    assert.equal((await call('shell.openExternal', ['https://evil.example/'])).error?.code, 'invalid_call');
    // A mistyped number ends at the kiosk (no network), and its progress reaches the window.
    const head = '12345678901';
    const outcome = await call('kiosk.issue', [`${head}${(dammCheckDigit(head) + 1) % 10}`]);
    assert.equal((outcome.value as { status: string }).status, 'receipt_malformed');
    const pushed = win.webContents.sent.filter((s) => s.channel === KIOSK_EVENT_CHANNEL).map((s) => s.message as { event: string; payload: { kind: string } });
    assert.ok(pushed.some((m) => m.event === 'progress' && m.payload.kind === 'outcome'), JSON.stringify(pushed));
  });

  it('without a configuration: the window still opens and every call explains what to fix', async () => {
    await start({ config: null });
    assert.equal(f.windows.length, 1);
    const r = await call('kiosk.info', []);
    assert.equal(r.error?.code, 'config_invalid');
    assert.match(r.error!.message, /cannot read the kiosk configuration file .*kiosk-config\.json: ENOENT/);
    assert.match(r.error!.message, /serverUrl, credentialFile, printerUri, storeName and payment/);
    await kiosk.exit();

    // KIOSK_CONFIG points elsewhere, and a bad field is named.
    const other = join(dir, 'elsewhere.json');
    writeFileSync(other, JSON.stringify({ ...config(), printerUri: 'lpd://printer' }));
    await start({ env: { KIOSK_CONFIG: other } });
    const bad = await call('kiosk.info', []);
    assert.match(bad.error!.message, /elsewhere\.json is not a valid kiosk configuration: printerUri: must be/);
  });

  it('one instance only: a second one quits without a window; the first comes to the front', async () => {
    const win = (await start())!;
    f.app.emit('second-instance');
    assert.equal(win.focused, 1);
    await start({ singleInstance: false });
    assert.equal(f.windows.length, 0);
    assert.equal(f.app.quits, 1);
  });
});
