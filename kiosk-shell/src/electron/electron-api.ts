// The part of the `electron` module the shell uses. The modules here take it as a parameter, so
// that tests drive them with a double (Electron itself cannot be installed on the build machines).
import type * as Electron from 'electron';

/** The Electron main-process APIs the kiosk shell touches. */
export type ElectronModule = Pick<typeof Electron, 'app' | 'BrowserWindow' | 'Menu' | 'ipcMain' | 'protocol' | 'session' | 'powerSaveBlocker'>;
