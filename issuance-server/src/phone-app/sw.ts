// The approval app's service worker: caches the app shell only (never an API answer, so never a
// receipt or anything personal), serves it network-first so that updates arrive at once, and
// turns a Web Push message (which carries no personal data) into a notification that opens the
// app, where the prompt arrives over the socket.

/** The parts of the service worker scope this file uses (the DOM lib has no worker types). */
interface WorkerScope {
  registration: { showNotification(title: string, options: { body: string; tag: string; icon: string; requireInteraction: boolean }): Promise<void>; scope: string };
  clients: { matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<{ url: string; focus(): Promise<unknown> }[]>; openWindow(url: string): Promise<unknown>; claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: { waitUntil(p: Promise<unknown>): void }) => void): void;
  addEventListener(type: 'fetch', fn: (e: { request: Request; respondWith(r: Promise<Response>): void }) => void): void;
  addEventListener(type: 'push', fn: (e: { waitUntil(p: Promise<unknown>): void }) => void): void;
  addEventListener(type: 'notificationclick', fn: (e: { notification: { close(): void }; waitUntil(p: Promise<unknown>): void }) => void): void;
}

const scope = self as unknown as WorkerScope;
const CACHE = 'phone-shell-v1';
const SHELL = ['./', 'app.js', 'styles.css', 'manifest.webmanifest', 'icon.svg'].map((p) => new URL(p, scope.registration.scope).href);

scope.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => scope.skipWaiting()));
});

scope.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => scope.clients.claim()),
  );
});

scope.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  url.hash = '';
  // Only the shell's own files: API calls and anything else go to the network untouched.
  if (e.request.method !== 'GET' || !SHELL.includes(url.href)) return;
  e.respondWith(
    fetch(e.request)
      .then(async (res) => {
        if (res.ok) await (await caches.open(CACHE)).put(url.href, res.clone());
        return res;
      })
      .catch(async () => (await caches.match(url.href)) ?? Response.error()),
  );
});

scope.addEventListener('push', (e) => {
  // The payload says only "a print confirmation is waiting"; the text is the same for everyone.
  e.waitUntil(
    scope.registration.showNotification('印刷の確認 / Print confirmation', {
      body: 'コンビニの端末が印刷の確認を求めています。開いて確認してください。 / A store kiosk asks you to confirm a print.',
      tag: 'print-confirmation',
      icon: new URL('icon.svg', scope.registration.scope).href,
      requireInteraction: true,
    }),
  );
});

scope.addEventListener('notificationclick', (e) => {
  e.notification.close();
  e.waitUntil(
    scope.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((open) => {
      const page = open.find((c) => c.url.startsWith(scope.registration.scope));
      return page ? page.focus() : scope.clients.openWindow(scope.registration.scope);
    }),
  );
});
