import express from 'express';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServerConfig } from './config.ts';
import { createContext, type ServerContext } from './context.ts';
import { createLogger } from './logger.ts';
import { adminRoutes } from './routes/admin-routes.ts';
import { applicantRoutes } from './routes/applicant-routes.ts';
import { errorHandler, notFoundHandler, rawErrorResponse, requireHost, sendRawError } from './routes/http-errors.ts';
import { kioskRoutes } from './routes/kiosk-routes.ts';
import { phoneAppRoutes } from './routes/phone-app-routes.ts';
import { loadPhoneApp } from './runtime/phone-app-bundle.ts';
import { phoneRoutes } from './routes/phone-routes.ts';
import { publicRoutes } from './routes/public-routes.ts';
import { authenticateKiosk } from './services/kiosk-auth.ts';
import { isLoopbackHost } from './services/loopback.ts';
import { PublicService } from './services/public-service.ts';
import type { DocumentRenderer } from './services/document-service.ts';
import { RenderPool } from './documents/render-pool.ts';
import { embeddedAsset, SERVER_ASSETS } from './runtime/single-executable.ts';
import { lockDataDir } from './store/db/data-dir-lock.ts';
import { ApplicantSocketHub } from './ws/applicant-socket.ts';

/** How often pending phones whose pairing ran out are dropped (their use is refused from the deadline on anyway). */
const PHONE_SWEEP_MS = 60_000;
/** Documents that may wait for a render worker before the server answers 503 (and the kiosk fetches again). */
const RENDER_QUEUE = 2000;

/** The render pool of a server: embedded worker code and wasm in the single executable, the sources otherwise. */
export function createRenderPool(config: Pick<ServerConfig, 'fontPath' | 'renderWorkers'>, unref = false): RenderPool {
  const worker = embeddedAsset(SERVER_ASSETS.renderWorker);
  const wasm = embeddedAsset(SERVER_ASSETS.hbSubsetWasm);
  return new RenderPool({
    fontPath: config.fontPath,
    ...(config.renderWorkers ? { size: config.renderWorkers } : {}),
    // A rush of approvals queues up rather than failing: each waiting request is small, and at a
    // few milliseconds a document even a full queue drains within seconds.
    maxQueue: RENDER_QUEUE,
    ...(worker ? { worker: { source: Buffer.from(worker).toString('utf8') } } : {}),
    ...(wasm ? { hbSubsetWasm: wasm } : {}),
    unref,
  });
}

/** What a caller may hand to startServer instead of letting it build its own. */
export interface StartOptions {
  /** A renderer shared with other servers (tests); the server then leaves closing it to the caller. */
  renderer?: DocumentRenderer;
}

/** A running server. */
export interface RunningServer {
  url: string;
  port: number;
  context: ServerContext;
  close(): Promise<void>;
}

/** Runs `job` every `ms` without overlapping itself; a failure is logged and the next run happens as planned. */
function every(ms: number, job: () => Promise<unknown>, log: Logger, what: string): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = job()
      .then(() => undefined)
      .catch((err: unknown) => log.error({ err }, `${what} failed`))
      .finally(() => {
        running = null;
      });
  }, ms);
  timer.unref();
  // Stopping waits for a run in progress, so that it never meets a database already closed.
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/**
 * Starts Express and the applicant WebSocket on one HTTP(S) server; resolves once listening,
 * with the document renderer warm (so that the first document is as fast as the others).
 */
export async function startServer(config: ServerConfig, log: Logger = createLogger(config.logLevel), options: StartOptions = {}): Promise<RunningServer> {
  if (!config.tls && !isLoopbackHost(config.host)) {
    throw new Error(`refusing plain HTTP on ${config.host}: give --tls-cert and --tls-key, or bind to a loopback address`);
  }
  // Read before anything starts, so that a bad path fails here with nothing to stop.
  const tls = config.tls ? { cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) } : null;
  // Nodes on PostgreSQL share their database by design; a SQLite data directory has one server.
  const lock = config.databaseUrl || config.dataDir === ':memory:' ? { release: () => undefined } : lockDataDir(config.dataDir, config.sqliteNativeBinding);
  const ownRenderer = !options.renderer;
  const renderer = options.renderer ?? createRenderPool(config);
  let context: ServerContext;
  try {
    // Warm before listening: the first resident's document is as fast as the others.
    await renderer.ready();
    context = await createContext(config, log, () => config.publicUrl ?? url, renderer);
    // A data directory from before paired phones gets its VAPID key pair now.
    await context.phones.push.vapidKeys();
  } catch (e) {
    if (ownRenderer) await renderer.close();
    lock.release();
    throw e;
  }
  let url = '';

  const app = express();
  app.disable('x-powered-by');
  // Every answer is no-store and personal: an ETag (a hash of each body) would buy nothing.
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.set('trust proxy', false);
  app.use(requireHost);
  app.use((_req, res, next) => {
    res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    next();
  });
  // Before the general parser: record batches may carry seal images, far above its 64 kB.
  app.use(adminRoutes(context.records));
  app.use(express.json({ limit: '64kb', strict: true, type: () => true }));
  app.use(publicRoutes(new PublicService(context.store), context.catalog, config.clock));
  app.use(applicantRoutes(context.auth, context.applications));
  app.use(phoneRoutes(context.auth, context.phones));
  app.use(phoneAppRoutes(loadPhoneApp, () => context.phones.webOrigin().origin));
  app.use(kioskRoutes(context.issuance, (credential) => authenticateKiosk(context.store, credential)));
  app.use(notFoundHandler);
  app.use(errorHandler(log));

  // Node answers some malformed requests itself with empty bodies; these options and handlers
  // route them to the contract's JSON error shape instead.
  const httpOptions = { requireHostHeader: false };
  const server: Server = tls ? createHttpsServer({ ...httpOptions, ...tls }, app) : createHttpServer(httpOptions, app);
  server.headersTimeout = 40_000;
  server.requestTimeout = 60_000;
  server.on('checkExpectation', (_req, res) => sendRawError(res, 'invalid_request', 'only "Expect: 100-continue" is supported', 417));
  const hub = new ApplicantSocketHub(context.issuance, context.auth, context.phones, config, log);
  server.on('upgrade', (req, socket, head) => hub.handleUpgrade(req, socket, head));
  // Node hands CONNECT to this event and, without a listener, drops the connection unanswered.
  server.on('connect', (_req, socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(rawErrorResponse('method_not_allowed', 'CONNECT is not supported here'));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    socket.end(tooLarge ? rawErrorResponse('invalid_request', 'request headers are too large', {}, 431) : rawErrorResponse('invalid_request', 'malformed HTTP request'));
  });

  const stopSweeps = every(config.sweepIntervalMs, () => context.lifecycle.sweep(), log, 'sweep');
  const stopPhoneSweeps = every(PHONE_SWEEP_MS, () => context.phones.sweep(), log, 'phone sweep');
  const checkpoint = async () => {
    const c = await context.admin.checkpointAudit();
    if (c && config.auditCheckpointFile) appendFileSync(config.auditCheckpointFile, JSON.stringify(c) + '\n', { mode: 0o600 });
  };
  const stopCheckpoints = every(config.auditCheckpointIntervalMs, checkpoint, log, 'audit checkpoint');

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (e) {
    await stopSweeps();
    await stopCheckpoints();
    await stopPhoneSweeps();
    hub.close();
    await context.close();
    if (ownRenderer) await renderer.close();
    lock.release();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  url = `${config.tls ? 'https' : 'http'}://${host}:${port}`;
  log.info({ url }, 'listening');

  return {
    url,
    port,
    context,
    close: async () => {
      await stopSweeps();
      await stopCheckpoints();
      await stopPhoneSweeps();
      hub.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A last checkpoint, so that the exported head covers everything this run wrote.
      await checkpoint().catch((err: unknown) => log.error({ err }, 'audit checkpoint failed'));
      if (ownRenderer) await renderer.close();
      await context.close();
      lock.release();
    },
  };
}
