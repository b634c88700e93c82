// Wires the applicant core to Electron: single instance, the app:// renderer, the window and its
// guards, IPC, print-confirmation attention, and the device key in the OS keystore. Takes the
// electron module as a parameter so tests can run it against a double.
import { applicantStrings } from '@cert/common/i18n';
import type * as Electron from 'electron';
import type { BrowserWindow } from 'electron';
import { join } from 'node:path';
import { ApplicantCore, DEVICE_KEY_FILE, type ApplicantCoreOptions } from '../core/applicant-core.ts';
import { registerApplicantIpc } from './ipc-main.ts';
import { safeStorageProtector, sealKeyFile } from './key-protector.ts';
import { claimSingleInstance, recoverRenderer } from './lifecycle.ts';
import { APP_ORIGIN, denyPermissions, guardContents, registerAppScheme, serveRenderer } from './security.ts';
import { applicantWindowOptions } from './window-options.ts';

/** The parts of the electron module the app uses. */
export type ElectronModule = Pick<typeof Electron, 'app' | 'BrowserWindow' | 'ipcMain' | 'protocol' | 'session' | 'safeStorage' | 'Notification' | 'dialog'>;

/** Where the built renderer and preload are. */
export interface AppPaths {
  rendererDir: string;
  preloadPath: string;
}

/** Replaceable parts, for tests. */
export interface AppDeps {
  createCore?: (options: ApplicantCoreOptions) => ApplicantCore;
  log?: (msg: string) => void;
}

/** Starts the applicant app; resolves once its window is loading (or the app quit as a second instance). */
export async function runApplicantApp(electron: ElectronModule, paths: AppPaths, deps: AppDeps = {}): Promise<void> {
  const { app } = electron;
  const log = deps.log ?? ((msg: string) => console.log(`[applicant] ${msg}`));
  let win: BrowserWindow | null = null;
  const raise = () => {
    if (!win || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  };
  registerAppScheme(electron.protocol);
  if (!claimSingleInstance(app, raise)) return;
  app.on('web-contents-created', (_event, contents) => guardContents(contents, log));
  app.on('window-all-closed', () => app.quit());
  await app.whenReady();

  const strings = applicantStrings[app.getLocale().startsWith('ja') ? 'ja' : 'en'];
  const dataDir = app.getPath('userData');
  let core: ApplicantCore;
  try {
    const keyProtector = safeStorageProtector(electron.safeStorage);
    if (sealKeyFile(join(dataDir, DEVICE_KEY_FILE), keyProtector)) log('sealed the device key with the system keystore');
    core = (deps.createCore ?? ((o) => new ApplicantCore(o)))({ dataDir, keyProtector });
  } catch (e) {
    // Without its device key the app cannot answer print confirmations: stop, and say why.
    electron.dialog.showErrorBox(strings.app.title, `${strings.app.fatal}\n\n${(e as Error).message}`);
    app.exit(1);
    return;
  }
  denyPermissions(electron.session.defaultSession);
  serveRenderer(electron.protocol, paths.rendererDir);
  const window = new electron.BrowserWindow(applicantWindowOptions(paths.preloadPath));
  win = window;
  window.setTitle(strings.app.title);
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => (win = null));
  recoverRenderer(window, log);
  const unregister = registerApplicantIpc(electron.ipcMain, core, () => win, log);
  core.on('confirmation-request', (req) => {
    raise();
    if (!electron.Notification.isSupported()) return;
    const note = new electron.Notification({ title: strings.prompt.notificationTitle, body: strings.prompt.notificationBody(req.kiosk.name) });
    note.on('click', raise);
    note.show();
  });
  app.on('before-quit', () => {
    unregister();
    core.stop();
  });
  core.start();
  await window.loadURL(`${APP_ORIGIN}/index.html`);
}
