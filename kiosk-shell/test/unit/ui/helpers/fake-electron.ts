// A double of the `electron` main-process module, as much of it as the kiosk shell uses, that
// records what the shell asked for so tests can assert on it (Electron cannot run here).
import { EventEmitter } from 'node:events';
import type { ElectronModule } from '../../../../src/electron/electron-api.ts';

/** An event object whose preventDefault the test can observe. */
export function fakeEvent<T extends object>(extra: T = {} as T): T & { preventDefault(): void; defaultPrevented: boolean } {
  const e = {
    ...extra,
    defaultPrevented: false,
    preventDefault() {
      e.defaultPrevented = true;
    },
  };
  return e;
}

let nextId = 1;

/** A frame as IPC events carry it. */
export interface FakeFrame {
  url: string;
  parent: FakeFrame | null;
}

/** webContents: events, sends, devtools and crash controls. */
export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  readonly sent: { channel: string; message: unknown }[] = [];
  readonly mainFrame: FakeFrame = { url: 'kiosk://app/index.html', parent: null };
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;
  devToolsClosed = 0;
  crashes = 0;
  zoomLimits: [number, number] | null = null;
  send(channel: string, message: unknown) {
    this.sent.push({ channel, message });
  }
  setWindowOpenHandler(h: (details: { url: string }) => { action: string }) {
    this.windowOpenHandler = h;
  }
  closeDevTools() {
    this.devToolsClosed++;
  }
  forcefullyCrashRenderer() {
    this.crashes++;
  }
  setVisualZoomLevelLimits(min: number, max: number) {
    this.zoomLimits = [min, max];
    return Promise.resolve();
  }
}

/** The recording double; `module` is what the shell receives. */
export interface FakeElectron {
  module: ElectronModule;
  app: EventEmitter & { quits: number; switches: string[][]; singleInstance: boolean };
  windows: (EventEmitter & { options: Record<string, unknown>; webContents: FakeWebContents; loaded: string[]; nextLoad(): Promise<string>; shown: boolean; focused: number })[];
  ipcHandlers: Map<string, (event: unknown, ...args: unknown[]) => unknown>;
  schemes: unknown[];
  protocolHandlers: Map<string, (request: { url: string }) => Promise<Response>>;
  menus: unknown[];
  blockers: string[];
  permissionRequest: ((contents: unknown, permission: string, callback: (granted: boolean) => void) => void) | null;
  permissionCheck: ((...args: unknown[]) => boolean) | null;
  devicePermission: ((...args: unknown[]) => boolean) | null;
  beforeRequest: ((details: { url: string }, callback: (r: { cancel: boolean }) => void) => void) | null;
}

/** A fresh double; `userData` is what app.getPath('userData') answers. */
export function fakeElectron(userData: string, options: { singleInstance?: boolean } = {}): FakeElectron {
  const f = {} as FakeElectron;
  const app = Object.assign(new EventEmitter(), {
    quits: 0,
    switches: [] as string[][],
    singleInstance: options.singleInstance ?? true,
    requestSingleInstanceLock: () => app.singleInstance,
    whenReady: () => Promise.resolve(),
    quit: () => {
      app.quits++;
      app.emit('quit');
    },
    getPath: (name: string) => {
      if (name !== 'userData') throw new Error(`unexpected getPath(${name})`);
      return userData;
    },
    commandLine: { appendSwitch: (...args: string[]) => app.switches.push(args) },
  });

  class FakeBrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    readonly loaded: string[] = [];
    private readonly loadWaiters: ((url: string) => void)[] = [];
    shown = false;
    focused = 0;
    destroyed = false;
    constructor(readonly options: Record<string, unknown>) {
      super();
      f.windows.push(this);
      app.emit('web-contents-created', fakeEvent(), this.webContents);
    }
    loadURL(url: string) {
      this.loaded.push(url);
      for (const resolve of this.loadWaiters.splice(0)) resolve(url);
      return Promise.resolve();
    }
    /** Resolves with the URL of the next loadURL call. */
    nextLoad(): Promise<string> {
      return new Promise((resolve) => this.loadWaiters.push(resolve));
    }
    isDestroyed() {
      return this.destroyed;
    }
    show() {
      this.shown = true;
    }
    focus() {
      this.focused++;
    }
  }

  Object.assign(f, {
    app,
    windows: [],
    ipcHandlers: new Map(),
    schemes: [],
    protocolHandlers: new Map(),
    menus: [],
    blockers: [],
    permissionRequest: null,
    permissionCheck: null,
    devicePermission: null,
    beforeRequest: null,
  });
  const defaultSession = {
    setPermissionRequestHandler: (h: FakeElectron['permissionRequest']) => (f.permissionRequest = h),
    setPermissionCheckHandler: (h: FakeElectron['permissionCheck']) => (f.permissionCheck = h),
    setDevicePermissionHandler: (h: FakeElectron['devicePermission']) => (f.devicePermission = h),
    webRequest: { onBeforeRequest: (h: FakeElectron['beforeRequest']) => (f.beforeRequest = h) },
  };
  f.module = {
    app,
    BrowserWindow: FakeBrowserWindow,
    Menu: { setApplicationMenu: (m: unknown) => f.menus.push(m) },
    ipcMain: { handle: (channel: string, h: (event: unknown, ...args: unknown[]) => unknown) => f.ipcHandlers.set(channel, h) },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => f.schemes.push(...schemes),
      handle: (scheme: string, h: (request: { url: string }) => Promise<Response>) => f.protocolHandlers.set(scheme, h),
    },
    session: { defaultSession },
    powerSaveBlocker: {
      start: (type: string) => {
        f.blockers.push(type);
        return f.blockers.length;
      },
    },
  } as unknown as ElectronModule;
  return f;
}
