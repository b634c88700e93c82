// One instance; a crashed or hung renderer comes back.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { App, BrowserWindow } from 'electron';
import { claimSingleInstance, recoverRenderer } from '../../../src/electron/lifecycle.ts';
import { ManualClock } from '../helpers/manual-clock.ts';
import { FakeWindow } from './helpers/electron-double.ts';

describe('electron: single instance and renderer recovery', () => {
  const fakeApp = (lock: boolean) => Object.assign(new EventEmitter(), { quits: 0, requestSingleInstanceLock: () => lock, quit() { this.quits++; } });

  it('the first instance keeps running; a second launch focuses its window', () => {
    const app = fakeApp(true);
    let focused = 0;
    assert.equal(claimSingleInstance(app as unknown as App, () => focused++), true);
    app.emit('second-instance', {}, ['applicant'], '/');
    assert.equal(focused, 1);
    assert.equal(app.quits, 0);
  });

  it('a second instance quits at once', () => {
    const app = fakeApp(false);
    assert.equal(claimSingleInstance(app as unknown as App, () => assert.fail('nothing to focus')), false);
    assert.equal(app.quits, 1);
  });

  it('a crashed renderer is reloaded; a clean exit is not', () => {
    const win = new FakeWindow({});
    recoverRenderer(win as unknown as BrowserWindow, () => {});
    win.webContents.emit('render-process-gone', {}, { reason: 'crashed', exitCode: 139 });
    assert.equal(win.webContents.reloads, 1);
    win.webContents.emit('render-process-gone', {}, { reason: 'clean-exit', exitCode: 0 });
    assert.equal(win.webContents.reloads, 1);
  });

  it('a renderer unresponsive past the grace period is killed and reloaded', () => {
    const win = new FakeWindow({});
    const clock = new ManualClock();
    const logged: string[] = [];
    recoverRenderer(win as unknown as BrowserWindow, (m) => logged.push(m), 30, clock.schedule);
    win.emit('unresponsive');
    win.emit('unresponsive'); // Electron repeats it; one restart only
    assert.deepEqual(clock.pending, [30]);
    clock.advance(29);
    assert.equal(win.webContents.crashes, 0);
    clock.advance(1);
    assert.equal(win.webContents.crashes, 1);
    assert.equal(win.webContents.reloads, 1);
    assert.ok(logged.some((m) => m.includes('unresponsive')));
  });

  it('a renderer that recovers within the grace period is left alone', () => {
    const win = new FakeWindow({});
    const clock = new ManualClock();
    recoverRenderer(win as unknown as BrowserWindow, () => {}, 30, clock.schedule);
    win.emit('unresponsive');
    clock.advance(29);
    win.emit('responsive');
    assert.deepEqual(clock.pending, [], 'the restart is called off');
    clock.advance(1000);
    assert.equal(win.webContents.crashes, 0);
    assert.equal(win.webContents.reloads, 0);
  });
});
