// The renderer is served from a private, secure scheme (`kiosk://app/…`) out of the packaged
// files, with the same CSP header as web mode: no file:// quirks, no remote content, and a real
// origin for the CSP's 'self' and for the IPC sender check.
import { RENDERER_CONTENT_TYPES as TYPES, RENDERER_CSP } from '@cert/common/node';
import type * as Electron from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

/** The renderer's scheme. */
export const KIOSK_SCHEME = 'kiosk';
/** The renderer's origin (a standard scheme with the host `app`). */
export const KIOSK_ORIGIN = `${KIOSK_SCHEME}://app`;
/** What the window loads. */
export const KIOSK_URL = `${KIOSK_ORIGIN}/index.html`;

/** Registered before `ready`: standard (so it has an origin) and secure (a secure context). */
export const KIOSK_SCHEME_PRIVILEGES: Electron.CustomScheme = {
  scheme: KIOSK_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false, allowServiceWorkers: false, bypassCSP: false, stream: false },
};

const notFound = () => new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });

/** Answers one `kiosk://` request from the files in `rendererDir` (404 for anything outside it). */
export async function rendererResponse(rendererDir: string, url: string): Promise<Response> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return notFound();
  }
  if (`${parsed.protocol}//${parsed.host}` !== KIOSK_ORIGIN) return notFound();
  const rel = normalize(decodeURIComponent(parsed.pathname)).replace(/^([/\\])+/, '');
  const file = join(rendererDir, rel);
  const type = TYPES[extname(file)];
  if (!file.startsWith(rendererDir + sep) || !type) return notFound();
  try {
    const body = await readFile(file);
    return new Response(body, { status: 200, headers: { 'content-type': type, 'content-security-policy': RENDERER_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } });
  } catch {
    return notFound();
  }
}

/** Serves the renderer on the registered scheme (after `ready`). */
export function serveRenderer(protocol: Pick<Electron.Protocol, 'handle'>, rendererDir: string): void {
  protocol.handle(KIOSK_SCHEME, (request) => rendererResponse(rendererDir, request.url));
}
