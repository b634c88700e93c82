// The whole main process against the electron double: order of setup, the window, the renderer
// URL, the guards on every webContents, print-confirmation attention, shutdown.
import { applicantStrings } from '@cert/common/i18n';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApplicantCore, ApplicantCoreOptions } from '../../../src/core/applicant-core.ts';
import { runApplicantApp } from '../../../src/electron/app-main.ts';
import { APPLICANT_IPC } from '../../../src/electron/ipc-names.ts';
import { SAFE_STORAGE_KIND } from '../../../src/electron/key-protector.ts';
import { electronDouble, FakeWebContents, FakeWindow, type ElectronDouble } from './helpers/electron-double.ts';

/** The core as the app drives it: started, stopped, and emitting what a kiosk triggers. */
class FakeCore extends EventEmitter {
  started = 0;
  stopped = 0;
  start() {
    this.started++;
  }
  stop() {
    this.stopped++;
  }
}

const PATHS = { rendererDir: '/opt/applicant/dist/renderer', preloadPath: '/opt/applicant/dist/electron/preload.cjs' };
const REQUEST = {
  type: 'print-confirmation-request',
  requestId: 'q1',
  applicationId: 'a1',
  receiptNumber: '123456789012',
  certificateType: 'juminhyo',
  copies: 1,
  fee: 200,
  kiosk: { id: 'k1', name: 'コンビニ テスト駅前店', location: 'テスト市本町1-1' },
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
};

describe('electron: the main process wiring', () => {
  let userData: string;
  let d: ElectronDouble;
  let core: FakeCore;
  let coreOptions: ApplicantCoreOptions | undefined;
  const start = (options: Partial<Parameters<typeof electronDouble>[0]> = {}, createCore?: (o: ApplicantCoreOptions) => ApplicantCore) => {
    d = electronDouble({ userData, ...options });
    core = new FakeCore();
    const running = runApplicantApp(d.electron, PATHS, {
      createCore:
        createCore ??
        ((o) => {
          coreOptions = o;
          return core as unknown as ApplicantCore;
        }),
      log: () => {},
    });
    d.app.ready();
    return running;
  };
  beforeEach(() => {
    userData = mkdtempSync(join(tmpdir(), 'applicant-userdata-'));
    coreOptions = undefined;
  });
  afterEach(() => rmSync(userData, { recursive: true, force: true }));

  it('registers the scheme before ready, then opens one guarded window on app://applicant', async () => {
    await start();
    assert.deepEqual(d.order, ['registerSchemesAsPrivileged', 'ready']);
    assert.equal(FakeWindow.created.length, 1);
    const win = FakeWindow.created[0]!;
    assert.equal((win.options.webPreferences as { preload: string }).preload, PATHS.preloadPath);
    assert.deepEqual(win.loaded, ['app://applicant/index.html']);
    assert.ok(d.protocolHandlers.has('app'), 'the renderer is served on the app scheme');
    assert.ok(d.ipcHandlers.has(APPLICANT_IPC));
    assert.ok(d.permissionRequest && d.permissionCheck, 'permission handlers installed');
    assert.equal(win.title, applicantStrings.ja.app.title);
    win.emit('ready-to-show');
    assert.equal(win.shown, 1);
    assert.equal(core.started, 1);
  });

  it('the core keeps its data under userData with the device key sealed by safeStorage', async () => {
    await start();
    assert.equal(coreOptions?.dataDir, userData);
    assert.equal(coreOptions?.keyProtector?.kind, SAFE_STORAGE_KIND);
  });

  it('every webContents created later gets the navigation and window guards', async () => {
    await start();
    const contents = new FakeWebContents();
    d.app.emit('web-contents-created', {}, contents);
    assert.deepEqual(contents.windowOpenHandler!({ url: 'https://evil.example/' }), { action: 'deny' });
  });

  it('a second launch raises the existing window (restored if minimised)', async () => {
    await start();
    const win = FakeWindow.created[0]!;
    win.minimized = true;
    d.app.emit('second-instance', {}, [], '/');
    assert.deepEqual([win.restored, win.shown, win.focused], [1, 1, 1]);
  });

  it('a second instance quits without creating a core or a window', async () => {
    await start({ lock: false });
    assert.equal(d.app.quits, 1);
    assert.equal(FakeWindow.created.length, 0);
    assert.equal(coreOptions, undefined);
  });

  it('a print confirmation request raises the window and shows a system notification in the OS language', async () => {
    await start({ locale: 'en-US' });
    const win = FakeWindow.created[0]!;
    core.emit('confirmation-request', REQUEST);
    assert.deepEqual([win.shown, win.focused], [1, 1]);
    assert.deepEqual(d.notifications, [{ title: applicantStrings.en.prompt.notificationTitle, body: applicantStrings.en.prompt.notificationBody(REQUEST.kiosk.name) }]);
  });

  it('quitting stops the core and removes the IPC handler', async () => {
    await start();
    d.app.emit('before-quit');
    assert.equal(core.stopped, 1);
    assert.equal(d.ipcHandlers.has(APPLICANT_IPC), false);
  });

  it('a core that cannot start (e.g. its sealed key unreadable) ends the app with a clear message', async () => {
    await start({}, () => {
      throw new Error('the device key is sealed by the system keystore, which is not available in this session');
    });
    assert.equal(FakeWindow.created.length, 0);
    assert.deepEqual(d.app.exits, [1]);
    assert.match(d.errorBoxes[0]!, /system keystore/);
  });
});
