// Guards for every web contents and the default session: no navigation, no new windows, no
// webviews, no permissions, no request leaving the kiosk:// origin.
import type * as Electron from 'electron';
import { KIOSK_ORIGIN } from './kiosk-protocol.ts';

/** True for the only URLs the renderer may load: its own files and inline data. */
export function isLocalUrl(url: string): boolean {
  return url.startsWith(`${KIOSK_ORIGIN}/`) || url.startsWith('data:');
}

/** Denies navigation, new windows and webviews in every web contents the app creates. */
export function guardAllContents(app: Pick<Electron.App, 'on'>, log: (line: string) => void): void {
  app.on('web-contents-created', (_event, contents) => {
    const deny = (event: { preventDefault(): void }, what: string) => {
      event.preventDefault();
      log(`denied ${what}`);
    };
    contents.on('will-navigate', (event, url) => deny(event, `navigation to ${url.slice(0, 200)}`));
    contents.on('will-redirect', (event, url) => deny(event, `redirect to ${url.slice(0, 200)}`));
    contents.on('will-attach-webview', (event) => deny(event, 'a webview'));
    contents.setWindowOpenHandler(({ url }) => {
      log(`denied a new window for ${url.slice(0, 200)}`);
      return { action: 'deny' };
    });
  });
}

/** Denies every permission and cancels every request that is not local. */
export function guardSession(ses: Electron.Session, log: (line: string) => void): void {
  ses.setPermissionRequestHandler((_contents, permission, callback) => {
    log(`denied permission ${permission}`);
    callback(false);
  });
  ses.setPermissionCheckHandler(() => false);
  ses.setDevicePermissionHandler(() => false);
  ses.webRequest.onBeforeRequest((details, callback) => {
    const local = isLocalUrl(details.url);
    if (!local) log(`blocked a request to ${details.url.slice(0, 200)}`);
    callback({ cancel: !local });
  });
}
