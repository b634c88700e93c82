// The applicant window: every web preference that keeps the renderer away from Node and the
// network is spelled out, not left to defaults that differ between Electron versions.
import { secureWebPreferences } from '@cert/common/node';
import type { BrowserWindowConstructorOptions } from 'electron';

/** Options of the one applicant window. */
export function applicantWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1040,
    height: 800,
    minWidth: 720,
    minHeight: 560,
    // Shown on ready-to-show, so the resident never sees an empty frame.
    show: false,
    backgroundColor: '#ffffff',
    autoHideMenuBar: true,
    webPreferences: {
      ...secureWebPreferences(preloadPath),
    },
  };
}
