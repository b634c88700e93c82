import type { IpcOutcome, IpcTransport } from '../ipc/ipc-contract.ts';

const TOKEN_KEY = 'launch-token';

/** The per-launch token: taken from the URL fragment once, then kept for reloads of this tab only. */
function launchToken(): string {
  const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]!);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Error('this page must be opened with the URL the app printed (it carries a launch token)');
  return token;
}

/**
 * The IPC transport in web mode: the same shape the Electron preload exposes, carried over the
 * local host's `POST /ipc/<channel>` and `/events` WebSocket with the launch token.
 */
export function createWebTransport(): IpcTransport {
  const token = launchToken();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const connect = (attempt: number) => {
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/events`, [`token.${token}`]);
    ws.onmessage = (m) => {
      const { event, payload } = JSON.parse(String(m.data)) as { event: string; payload: unknown };
      for (const l of listeners.get(event) ?? []) l(payload);
    };
    ws.onopen = () => {
      attempt = 0;
    };
    ws.onclose = () => setTimeout(() => connect(attempt + 1), Math.min(5000, 200 * 2 ** attempt));
  };
  connect(0);
  return {
    call: async (channel, args) => {
      try {
        const res = await fetch(`/ipc/${encodeURIComponent(channel)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ args }),
        });
        return (await res.json()) as IpcOutcome<unknown>;
      } catch {
        return { ok: false, error: { code: 'host_unreachable', message: 'the app is not running' } };
      }
    },
    on: (event, listener) => {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => {
        set.delete(listener);
      };
    },
  };
}
