// The main-process IPC: only our window's top frame showing our renderer is served; arguments
// are validated before any handler runs; core events reach the window.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { BrowserWindow, IpcMain } from 'electron';
import type { ApplicantCore } from '../../../src/core/applicant-core.ts';
import { APPLICANT_EVENT, APPLICANT_IPC } from '../../../src/electron/ipc-names.ts';
import { registerApplicantIpc } from '../../../src/electron/ipc-main.ts';
import { FakeWindow, type FakeFrame } from './helpers/electron-double.ts';

/** The few core members these calls touch; counts the calls that reached it. */
class FakeCore extends EventEmitter {
  calls = 0;
  settings() {
    this.calls++;
    return { serverUrl: 'https://city.example' };
  }
}

describe('electron: IPC sender check and dispatch', () => {
  let win: FakeWindow;
  let core: FakeCore;
  let handler: (event: unknown, channel: unknown, args: unknown) => Promise<unknown>;
  let unregister: () => void;
  const handlers = new Map<string, typeof handler>();
  const logged: string[] = [];
  const ipcMain = { handle: (c: string, h: typeof handler) => void handlers.set(c, h), removeHandler: (c: string) => void handlers.delete(c) };
  const event = (frame: FakeFrame | null, sender: unknown = win.webContents) => ({ sender, senderFrame: frame });

  beforeEach(() => {
    win = new FakeWindow({});
    core = new FakeCore();
    logged.length = 0;
    unregister = registerApplicantIpc(ipcMain as unknown as IpcMain, core as unknown as ApplicantCore, () => win as unknown as BrowserWindow, (m) => logged.push(m));
    handler = handlers.get(APPLICANT_IPC)!;
  });
  afterEach(() => unregister());

  it('a call from the window’s top frame on app://applicant runs its handler', async () => {
    assert.deepEqual(await handler(event(win.webContents.mainFrame), 'settings.get', []), { ok: true, value: { serverUrl: 'https://city.example' } });
    assert.equal(core.calls, 1);
  });

  for (const [what, make] of [
    ['a sub-frame of our window', () => event({ ...win.webContents.mainFrame, routingId: 2 })],
    ['our frame after it navigated elsewhere', () => event({ ...win.webContents.mainFrame, url: 'https://evil.example/' })],
    ['a file:// page', () => event({ ...win.webContents.mainFrame, url: 'file:///tmp/x.html' })],
    ['another webContents', () => event(win.webContents.mainFrame, new EventEmitter())],
    ['a frame already gone', () => event(null)],
  ] as const) {
    it(`a call from ${what} is dropped before any handler runs`, async () => {
      const r = (await handler(make(), 'settings.get', [])) as { ok: boolean; error: { code: string } };
      assert.equal(r.ok, false);
      assert.equal(r.error.code, 'untrusted_sender');
      assert.equal(core.calls, 0);
      assert.match(logged[0]!, /untrusted sender/);
    });
  }

  it('a call after the window closed is dropped', async () => {
    win.destroyed = true;
    const r = (await handler(event(win.webContents.mainFrame), 'settings.get', [])) as { ok: boolean };
    assert.equal(r.ok, false);
    assert.equal(core.calls, 0);
  });

  it('unknown channels and arguments outside the schema are refused as invalid_call', async () => {
    const top = event(win.webContents.mainFrame);
    for (const [channel, args] of [
      ['shell.openExternal', ['https://evil.example']],
      ['settings.get', ['unexpected']],
      ['server.connect', ['not a url']],
      ['auth.login', ['1234', 'yes']],
      ['receipt.qr', ['12345']],
    ] as const) {
      const r = (await handler(top, channel, args)) as { ok: boolean; error: { code: string } };
      assert.equal(r.error.code, 'invalid_call', `${channel} ${JSON.stringify(args)}`);
    }
    assert.equal(core.calls, 0);
  });

  it('core events go to the window on one channel; unregistering stops both directions', () => {
    core.emit('card', { state: 'no_card', readers: ['Reader 0'] });
    core.emit('connection', 'offline');
    assert.deepEqual(win.webContents.sent, [
      [APPLICANT_EVENT, 'card', { state: 'no_card', readers: ['Reader 0'] }],
      [APPLICANT_EVENT, 'connection', 'offline'],
    ]);
    unregister();
    core.emit('connection', 'authenticated');
    assert.equal(win.webContents.sent.length, 2);
    assert.equal(handlers.has(APPLICANT_IPC), false);
    assert.equal(core.listenerCount('card'), 0);
  });
});
