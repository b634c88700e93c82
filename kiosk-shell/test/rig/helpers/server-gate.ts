// An HTTP proxy between a kiosk and the issuance server that a test steers per request: pass it
// on, refuse it (the connection is reset, as when the store's line is down), or hold it (the
// server handles it, but its answer is kept back until released: the kiosk is left waiting for
// a document the server has already handed out).
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What happens to one request. */
export type GateRule = 'pass' | 'refuse' | 'hold';

/** A running gate. */
export interface ServerGate {
  /** The kiosk's server URL. */
  url: string;
  /** Decides each request (default: pass everything). */
  rule: (method: string, path: string) => GateRule;
  /** Resolves once a request has been held (its answer is back from the server). */
  whenHeld(): Promise<void>;
  /** Sends the held answers on. */
  release(): void;
  /** Requests refused so far. */
  refused: number;
  close(): Promise<void>;
}

/** Starts a gate on 127.0.0.1 in front of `target` (an http:// base URL). */
export async function startServerGate(target: string): Promise<ServerGate> {
  const upstream = new URL(target);
  const held: (() => void)[] = [];
  let onHeld: (() => void) | null = null;
  const gate: ServerGate = {
    url: '',
    rule: () => 'pass',
    whenHeld: () => (held.length > 0 ? Promise.resolve() : new Promise<void>((r) => (onHeld = r))),
    release: () => held.splice(0).forEach((send) => send()),
    refused: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const forward = (req: IncomingMessage, res: ServerResponse, hold: boolean) => {
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const send = () => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (!hold) return send();
        held.push(send);
        onHeld?.();
        onHeld = null;
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server = createServer((req, res) => {
    const rule = gate.rule(req.method ?? 'GET', req.url ?? '/');
    if (rule === 'refuse') {
      gate.refused++;
      req.socket.destroy();
      return;
    }
    forward(req, res, rule === 'hold');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  gate.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gate;
}
