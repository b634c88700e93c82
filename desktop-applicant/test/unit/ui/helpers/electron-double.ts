// A test double of the parts of the electron module the applicant's main process uses: it
// records what the app asked of Electron and lets a test play Electron's part (events, frames).
import type { SafeStorage } from 'electron';
import { EventEmitter } from 'node:events';
import type { ElectronModule } from '../../../../src/electron/app-main.ts';

/** A frame as IpcMainInvokeEvent.senderFrame carries it. */
export interface FakeFrame {
  processId: number;
  routingId: number;
  url: string;
}

/** webContents: records sends, reloads and the window-open handler. */
export class FakeWebContents extends EventEmitter {
  mainFrame: FakeFrame = { processId: 7, routingId: 1, url: 'app://applicant/index.html' };
  readonly sent: unknown[][] = [];
  reloads = 0;
  crashes = 0;
  windowOpenHandler: ((details: { url: string }) => { action: string }) | null = null;

  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }

  send(...args: unknown[]): void {
    this.sent.push(args);
  }

  reload(): void {
    this.reloads++;
  }

  /** As in Electron: the renderer dies, and render-process-gone follows. */
  forcefullyCrashRenderer(): void {
    this.crashes++;
    this.emit('render-process-gone', {}, { reason: 'killed', exitCode: 9 });
  }
}

/** BrowserWindow: keeps its options and what was done to it. */
export class FakeWindow extends EventEmitter {
  static created: FakeWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  shown = 0;
  focused = 0;
  restored = 0;
  minimized = false;
  destroyed = false;
  title = '';

  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeWindow.created.push(this);
  }

  isDestroyed(): boolean {
    return this.destroyed;
  }
  isMinimized(): boolean {
    return this.minimized;
  }
  restore(): void {
    this.restored++;
    this.minimized = false;
  }
  show(): void {
    this.shown++;
  }
  focus(): void {
    this.focused++;
  }
  setTitle(title: string): void {
    this.title = title;
  }
  async loadURL(url: string): Promise<void> {
    this.loaded.push(url);
  }
}

/** safeStorage over a reversible toy cipher (prefix + base64), with availability and backend set by the test. */
export function fakeSafeStorage(available: boolean, backend: ReturnType<SafeStorage['getSelectedStorageBackend']> = 'gnome_libsecret') {
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (plain: string) => Buffer.from(`sealed:${Buffer.from(plain).toString('base64')}`),
    decryptString: (sealed: Buffer) => {
      const text = sealed.toString();
      if (!text.startsWith('sealed:')) throw new Error('not sealed by this keystore');
      return Buffer.from(text.slice('sealed:'.length), 'base64').toString();
    },
  };
}

/** What a double records, next to the module itself. */
export interface ElectronDouble {
  electron: ElectronModule;
  app: EventEmitter & { quits: number; exits: number[]; ready(): void };
  order: string[];
  privileged: unknown[];
  protocolHandlers: Map<string, (req: { url: string }) => Promise<Response>>;
  ipcHandlers: Map<string, (event: unknown, ...args: unknown[]) => unknown>;
  permissionRequest: ((contents: unknown, permission: string, cb: (ok: boolean) => void) => void) | null;
  permissionCheck: (() => boolean) | null;
  notifications: { title: string; body: string }[];
  errorBoxes: string[];
}

/** Builds a double; `lock` is what requestSingleInstanceLock answers. */
export function electronDouble(options: { userData: string; lock?: boolean; locale?: string; encryption?: boolean }): ElectronDouble {
  FakeWindow.created = [];
  let resolveReady!: () => void;
  const whenReady = new Promise<void>((r) => (resolveReady = r));
  const d = {
    order: [] as string[],
    privileged: [] as unknown[],
    protocolHandlers: new Map(),
    ipcHandlers: new Map(),
    permissionRequest: null,
    permissionCheck: null,
    notifications: [] as { title: string; body: string }[],
    errorBoxes: [] as string[],
  } as Omit<ElectronDouble, 'electron' | 'app'>;
  const app = Object.assign(new EventEmitter(), {
    quits: 0,
    exits: [] as number[],
    ready: () => resolveReady(),
    requestSingleInstanceLock: () => options.lock ?? true,
    quit() {
      app.quits++;
    },
    exit(code: number) {
      app.exits.push(code);
    },
    whenReady: () => whenReady.then(() => void d.order.push('ready')),
    getPath: (name: string) => {
      if (name !== 'userData') throw new Error(`unexpected getPath(${name})`);
      return options.userData;
    },
    getLocale: () => options.locale ?? 'ja',
  });
  class FakeNotification extends EventEmitter {
    static isSupported = () => true;
    constructor(private readonly o: { title: string; body: string }) {
      super();
    }
    show() {
      d.notifications.push(this.o);
    }
  }
  const electron = {
    app,
    BrowserWindow: FakeWindow,
    Notification: FakeNotification,
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => {
        d.order.push('registerSchemesAsPrivileged');
        d.privileged.push(...schemes);
      },
      handle: (scheme: string, handler: (req: { url: string }) => Promise<Response>) => void d.protocolHandlers.set(scheme, handler),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (h: ElectronDouble['permissionRequest']) => void (d.permissionRequest = h),
        setPermissionCheckHandler: (h: ElectronDouble['permissionCheck']) => void (d.permissionCheck = h),
      },
    },
    ipcMain: {
      handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => unknown) => void d.ipcHandlers.set(channel, fn),
      removeHandler: (channel: string) => void d.ipcHandlers.delete(channel),
    },
    safeStorage: fakeSafeStorage(options.encryption ?? true),
    dialog: { showErrorBox: (title: string, message: string) => void d.errorBoxes.push(`${title}: ${message}`) },
  };
  // Assigned onto the record (not spread) so the handlers installed later stay visible.
  return Object.assign(d, { app, electron: electron as unknown as ElectronModule });
}
