import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ChannelHandlers, ChannelMap, EventMap } from '../ipc/ipc-contract.ts';
import { dispatchIpc, type ErrorMapper } from './ipc-dispatch.ts';
import { RENDERER_CONTENT_TYPES as TYPES, RENDERER_CSP } from './renderer-security.ts';

/** What a web-mode host serves: the renderer files and one app's IPC map. */
export interface WebHostOptions<M extends ChannelMap, E extends EventMap> {
  channels: M;
  events: E;
  handlers: ChannelHandlers<M>;
  /** Hooks the core's events; `emit` pushes one to every open renderer. Returns an unhook function. */
  subscribe: (emit: <K extends keyof E & string>(event: K, payload: unknown) => void) => () => void;
  staticDir: string;
  toIpcError: ErrorMapper;
  port?: number;
  log?: (msg: string) => void;
}

/** A running web-mode host. */
export interface WebHost {
  /** Open this in a browser; the per-launch token travels in the fragment, never to logs. */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

/**
 * Serves the renderer on 127.0.0.1 and exposes the same API as the preload over a loopback-only,
 * per-launch-token channel: `POST /ipc/<channel>` for calls and a WebSocket `/events` for pushes.
 * Requests with another Host or Origin (DNS rebinding, other sites) or without the token are refused.
 */
export async function startWebHost<M extends ChannelMap, E extends EventMap>(opts: WebHostOptions<M, E>): Promise<WebHost> {
  const token = randomBytes(32).toString('base64url');
  const tokenBytes = Buffer.from(token);
  const log = opts.log ?? (() => {});
  let origin = '';
  const sockets = new Set<WebSocket>();
  const tokenOk = (given: string | undefined) => !!given && given.length === token.length && timingSafeEqual(Buffer.from(given), tokenBytes);
  const sameHost = (req: IncomingMessage) => {
    const host = req.headers.host ?? '';
    return `http://${host}` === origin || `http://${host.replace(/^localhost:/, '127.0.0.1:')}` === origin;
  };
  const refuse = (res: ServerResponse, status: number, message: string) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify({ ok: false, error: { code: 'refused', message } }));
  };

  const serveStatic = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', origin).pathname;
    const rel = normalize(path === '/' ? '/index.html' : decodeURIComponent(path)).replace(/^([/\\])+/, '');
    const file = join(opts.staticDir, rel);
    if (!file.startsWith(opts.staticDir + sep) || !TYPES[extname(file)]) return refuse(res, 404, 'not found');
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)]!,
        'content-security-policy': RENDERER_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
        'cross-origin-opener-policy': 'same-origin',
      });
      res.end(body);
    } catch {
      refuse(res, 404, 'not found');
    }
  };

  const server = createServer((req, res) => {
    if (!sameHost(req)) return refuse(res, 403, 'wrong host');
    const path = new URL(req.url ?? '/', origin).pathname;
    if (req.method === 'GET' || req.method === 'HEAD') return void serveStatic(req, res);
    if (req.method !== 'POST' || !path.startsWith('/ipc/')) return refuse(res, 405, 'method not allowed');
    if (req.headers.origin !== origin) return refuse(res, 403, 'wrong origin');
    if (!tokenOk(/^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1])) return refuse(res, 401, 'missing or wrong launch token');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 256 * 1024) req.destroy();
      else chunks.push(c);
    });
    req.on('end', async () => {
      let args: unknown;
      try {
        args = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { args?: unknown }).args;
      } catch {
        args = undefined;
      }
      const outcome = await dispatchIpc(opts.channels, opts.handlers, decodeURIComponent(path.slice('/ipc/'.length)), args, opts.toIpcError, log);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(outcome));
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const given = req.headers['sec-websocket-protocol']?.split(',').map((s) => s.trim()).find((p) => p.startsWith('token.'))?.slice(6);
    if (!sameHost(req) || req.headers.origin !== origin || url.pathname !== '/events' || !tokenOk(given)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());

  const unhook = opts.subscribe((event, payload) => {
    const frame = JSON.stringify({ event, payload });
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(frame);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    close: async () => {
      unhook();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
