import express from 'express';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import { createContext, type ServerContext } from './context.ts';
import { createLogger } from './logger.ts';
import { applicantRoutes } from './routes/applicant-routes.ts';
import { errorHandler, notFoundHandler, rawErrorResponse } from './routes/http-errors.ts';
import { kioskRoutes } from './routes/kiosk-routes.ts';
import { publicRoutes } from './routes/public-routes.ts';
import { ApplicantSocketHub } from './ws/applicant-socket.ts';

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  context: ServerContext;
  close(): Promise<void>;
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Starts Express and the applicant WebSocket on one HTTP(S) server; resolves once listening. */
export async function startServer(config: ServerConfig, log: Logger = createLogger(config.logLevel)): Promise<RunningServer> {
  if (!config.tls && !isLoopback(config.host)) {
    throw new Error(`refusing plain HTTP on ${config.host}: give --tls-cert and --tls-key, or bind to a loopback address`);
  }
  let url = '';
  const context = createContext(config, log, () => config.publicUrl ?? url);

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', false);
  app.use((_req, res, next) => {
    res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    next();
  });
  app.use(express.json({ limit: '64kb', strict: true, type: () => true }));
  app.use(publicRoutes(context.stores.residents, context.stores.applications));
  app.use(applicantRoutes(context.auth, context.applications));
  app.use(kioskRoutes(context.stores.kiosks, context.issuance));
  app.use(notFoundHandler);
  app.use(errorHandler(log));

  const server: Server = config.tls
    ? createHttpsServer({ cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) }, app)
    : createHttpServer(app);
  server.headersTimeout = 40_000;
  server.requestTimeout = 60_000;
  const hub = new ApplicantSocketHub(context.issuance, context.stores.sessions, context.events, config, log);
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end(rawErrorResponse('invalid_request', 'malformed HTTP request'));
    else socket.destroy();
  });

  const sweeper = setInterval(() => {
    try {
      context.lifecycle.sweep();
      context.stores.sessions.purgeExpired(Date.now());
    } catch (err) {
      log.error({ err }, 'sweep failed');
    }
  }, config.sweepIntervalMs);
  sweeper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  url = `${config.tls ? 'https' : 'http'}://${host}:${port}`;
  log.info({ url }, 'listening');

  return {
    url,
    port,
    context,
    close: async () => {
      clearInterval(sweeper);
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      context.db.close();
    },
  };
}
