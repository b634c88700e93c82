import { PHONE_APP_PATH } from '@cert/common';
import { Router } from 'express';
import { gzipSync } from 'node:zlib';
import type { PhoneAppFiles } from '../runtime/phone-app-bundle.ts';
import { ServiceError } from '../services/service-error.ts';

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  webmanifest: 'application/manifest+json',
  svg: 'image/svg+xml',
};

/**
 * The approval web app's policy: its own scripts, styles and socket only (no third-party
 * content, no inline code, no framing); QR codes are data: images.
 */
function phoneAppCsp(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${ws}`,
    "manifest-src 'self'",
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Compressed copies of the larger files, made once per file set (the app's script is mostly its schemas' library). */
const gzipped = new WeakMap<Buffer, Buffer>();
function gzipOf(body: Buffer): Buffer {
  let z = gzipped.get(body);
  if (!z) gzipped.set(body, (z = gzipSync(body, { level: 9 })));
  return z;
}

/** Serves the phone approval web app under /phone/ (strict CSP; the shell may be cached by its service worker, never API answers). */
export function phoneAppRoutes(files: () => Promise<PhoneAppFiles>, origin: () => string): Router {
  const r = Router();
  // Express routes ignore a trailing slash, so the bare path is told apart here.
  r.use((req, res, next) => (req.method === 'GET' && req.path === PHONE_APP_PATH.slice(0, -1) ? res.redirect(301, PHONE_APP_PATH) : next()));
  r.get(`${PHONE_APP_PATH}{:file}`, async (req, res) => {
    const name = (req.params as { file?: string }).file ?? 'index.html';
    let app: PhoneAppFiles;
    try {
      app = await files();
    } catch {
      throw new ServiceError('service_unavailable', 'the phone app could not be loaded', { 'Retry-After': '60' });
    }
    const body = app.get(name);
    if (!body) throw new ServiceError('not_found', 'no such file');
    res.set({
      'Content-Type': TYPES[name.split('.').pop()!] ?? 'application/octet-stream',
      'Content-Security-Policy': phoneAppCsp(origin()),
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
      // Revalidated every time: a fixed app reaches every phone at once.
      'Cache-Control': 'no-cache',
      ...(name === 'sw.js' ? { 'Service-Worker-Allowed': PHONE_APP_PATH } : {}),
      Vary: 'Accept-Encoding',
    });
    // Over a phone's mobile connection the ~0.5 MB script travels as ~0.12 MB.
    if (body.length > 4096 && req.acceptsEncodings('gzip') === 'gzip') {
      res.set('Content-Encoding', 'gzip');
      res.send(gzipOf(body));
      return;
    }
    res.send(body);
  });
  return r;
}
