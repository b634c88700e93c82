// What the renderer may load and do. The renderer is served from a custom `app://applicant`
// scheme, not file://: file:// pages share one origin with every file on the disk (a page could
// read or navigate to any of them), response headers such as the CSP cannot be set, and the IPC
// sender check could not tell our page from any other local file. A standard + secure scheme
// gives the renderer a real origin of its own (checked on every IPC call), serves only the
// built renderer directory with our CSP header, and counts as a secure context.
import { RENDERER_CONTENT_TYPES as TYPES, RENDERER_CSP } from '@cert/common/node';
import type { Protocol, Session, WebContents } from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

/** The renderer's scheme. */
export const APP_SCHEME = 'app';
const APP_HOST = 'applicant';
/** The renderer's origin (the IPC sender check compares against it). */
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * True for a URL of our renderer (and nothing else, whatever its path). Compared by scheme and
 * host: Node's URL gives custom schemes an opaque origin ("null"), so `.origin` cannot be used.
 */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST;
  } catch {
    return false;
  }
}

/** Declares the scheme as standard and secure; Electron requires this before the app is ready. */
export function registerAppScheme(protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true } }]);
}

/** One response of the app scheme: a file of the renderer directory with the CSP, or 404. */
export async function rendererResponse(rendererDir: string, url: string): Promise<Response> {
  const u = new URL(url);
  const path = u.pathname === '/' ? '/index.html' : decodeURIComponent(u.pathname);
  const file = join(rendererDir, normalize(path).replace(/^([/\\])+/, ''));
  const type = TYPES[extname(file)];
  if (!isAppUrl(url) || !file.startsWith(rendererDir + sep) || !type) return new Response('not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: { 'content-type': type, 'content-security-policy': RENDERER_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' },
    });
  } catch {
    return new Response('not found', { status: 404 });
  }
}

/** Serves the built renderer on the app scheme. */
export function serveRenderer(protocol: Pick<Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (req) => rendererResponse(rendererDir, req.url));
}

/** No navigation, no new windows, no webviews: the app is one page that never leaves itself. */
export function guardContents(contents: Pick<WebContents, 'on' | 'setWindowOpenHandler'>, log: (msg: string) => void): void {
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    log(`blocked navigation to ${event.url.slice(0, 200)}`);
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    log(`blocked new window for ${url.slice(0, 200)}`);
    return { action: 'deny' };
  });
}

/**
 * Denies every permission (camera, geolocation, notifications…): the renderer needs none, and
 * print-confirmation notifications come from the main process.
 */
export function denyPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
