import type { Application, CatalogResponse, CreateApplicationRequest, LoginResponse, PrintConfirmationRequest, SubjectsResponse } from '@cert/common';
import type { ServerEndpoint } from '@cert/common/node';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { z } from 'zod';
import { ApplicantApi } from './applicant-api.ts';
import { ApplicantSocketClient, type SocketState } from './applicant-socket-client.ts';
import { CardService, type CardStatus } from './card/card-service.ts';
import { PcscMonitor } from './card/pcsc-monitor.ts';
import type { JpkiSessionOptions } from './card/jpki-session.ts';
import { DeviceKey, plainFileProtector, type KeyProtector } from './device-key.ts';
import { readJsonFile, writeJsonFile } from './json-file.ts';
import { ReceiptStore, type StoredReceipt } from './receipt-store.ts';

/** The device key's file name in the data directory (the Electron host seals it in place). */
export const DEVICE_KEY_FILE = 'device-key.bin';

const settingsSchema = z.object({
  serverUrl: z.string().url().nullable(),
  /** The server's other nodes, tried in this order when the one in use stops answering (README, "Two or more nodes"). */
  fallbackServerUrls: z.array(z.string().url()).max(8).default([]),
});
/** Settings the app keeps between runs. */
export type ApplicantSettings = z.infer<typeof settingsSchema>;

/** Events the UI listens to. */
export interface ApplicantCoreEvents {
  card: [CardStatus];
  connection: [SocketState];
  'confirmation-request': [PrintConfirmationRequest];
  'confirmation-closed': [{ requestId: string; status: string; reason?: string }];
  receipts: [StoredReceipt[]];
}

/** How the core is set up by its host (Electron main or the web-mode host). */
export interface ApplicantCoreOptions {
  dataDir: string;
  keyProtector?: KeyProtector;
  card?: JpkiSessionOptions;
  /** Extra CA (PEM) for a server with a private CA. */
  ca?: string;
}

/**
 * Everything the applicant app does, without Electron: card status and PIN login, the
 * municipality's catalog, applications and receipts (kept on disk), and print confirmations.
 */
export class ApplicantCore extends EventEmitter<ApplicantCoreEvents> {
  readonly card: CardService;
  readonly receipts: ReceiptStore;
  private readonly device: DeviceKey;
  private readonly settingsPath: string;
  private api: ApplicantApi | null = null;
  private socket: ApplicantSocketClient | null = null;

  constructor(private readonly options: ApplicantCoreOptions) {
    super();
    this.settingsPath = join(options.dataDir, 'settings.json');
    this.receipts = new ReceiptStore(options.dataDir);
    this.device = DeviceKey.loadOrCreate(join(options.dataDir, DEVICE_KEY_FILE), options.keyProtector ?? plainFileProtector);
    this.card = new CardService(new PcscMonitor(), options.card);
    this.card.on('status', (s) => this.emit('card', s));
  }

  /** Starts watching the card readers and, if a server was saved and a login happened, its socket. */
  start(): void {
    this.card.monitor.start();
    const { serverUrl, fallbackServerUrls } = this.settings();
    if (!serverUrl) return;
    this.api = new ApplicantApi(this.endpoint(serverUrl, fallbackServerUrls));
    // A device that applied before is registered: it must hear kiosks' requests without a new PIN login.
    if (this.receipts.all().some((r) => r.serverUrl === serverUrl)) this.openSocket(this.api);
  }

  /** Stops everything. */
  stop(): void {
    this.socket?.stop();
    this.card.monitor.stop();
  }

  /** The saved settings. */
  settings(): ApplicantSettings {
    return readJsonFile(this.settingsPath, settingsSchema, { serverUrl: null, fallbackServerUrls: [] });
  }

  private endpoint(serverUrl: string, fallbackServerUrls: readonly string[]): ServerEndpoint {
    return { baseUrl: serverUrl, alternateUrls: fallbackServerUrls, ...(this.options.ca ? { ca: this.options.ca } : {}) };
  }

  /**
   * Sets the municipality's server and checks it answers; returns its catalog. `fallbackUrls`
   * name the server's other nodes; without them, those saved for this same server are kept.
   */
  async connect(serverUrl: string, fallbackUrls?: readonly string[]): Promise<CatalogResponse> {
    const origin = new URL(serverUrl).origin;
    const saved = this.settings();
    const fallbacks = (fallbackUrls ?? (saved.serverUrl === origin ? saved.fallbackServerUrls : [])).map((u) => new URL(u).origin);
    const api = new ApplicantApi(this.endpoint(origin, fallbacks));
    const catalog = await api.catalog();
    const same = this.api?.endpoint.baseUrl === api.endpoint.baseUrl && this.api.endpoint.alternateUrls?.join(' ') === fallbacks.join(' ');
    if (!same) {
      this.socket?.stop();
      this.socket = null;
    }
    this.api = api;
    writeJsonFile(this.settingsPath, { ...saved, serverUrl: origin, fallbackServerUrls: fallbacks });
    return catalog;
  }

  private requireApi(): ApplicantApi {
    if (!this.api) throw new Error('no server is set; connect to the municipality first');
    return this.api;
  }

  /** The catalog of the connected server. */
  catalog(): Promise<CatalogResponse> {
    return this.requireApi().catalog();
  }

  /** PIN login: VERIFY with the PIN just typed, then the card-signed server login; opens the socket. */
  async login(pin: string, confirmLastTry = false): Promise<LoginResponse> {
    const api = this.requireApi();
    const session = await this.card.withVerifiedCard(pin, confirmLastTry, (jpki) => api.login(jpki.asToken(), this.device));
    this.openSocket(api);
    return session;
  }

  /** The server API of the logged-in session, for pairing and managing phones. */
  phoneApi(): ApplicantApi {
    const api = this.requireApi();
    if (!api.currentSession) throw new Error('confirm your identity with the card first');
    return api;
  }

  /** The logged-in resident, if any. */
  get session(): LoginResponse | null {
    return this.api?.currentSession ?? null;
  }

  private openSocket(api: ApplicantApi): void {
    // A socket refused before this login (key not yet registered) is replaced; a live one is kept.
    if (this.socket && this.socket.state !== 'rejected' && this.socket.state !== 'stopped') return;
    this.socket?.stop();
    const socket = new ApplicantSocketClient(api.endpoint, this.device);
    socket.on('state', (s) => this.emit('connection', s));
    socket.on('confirmation-request', (r) => this.emit('confirmation-request', r));
    socket.on('confirmation-closed', (c) => this.emit('confirmation-closed', c));
    socket.on('application-status', ({ applicationId, status }) => {
      this.receipts.setStatus(applicationId, status);
      this.emit('receipts', this.receipts.all());
    });
    socket.start();
    this.socket = socket;
  }

  /** The print-confirmation socket's state; `stopped` until a login opens it. */
  get connectionState(): SocketState {
    return this.socket?.state ?? 'stopped';
  }

  /** Resolves once the print-confirmation socket is authenticated. */
  whenConnected(timeoutMs?: number): Promise<void> {
    if (!this.socket) return Promise.reject(new Error('log in first'));
    return this.socket.whenAuthenticated(timeoutMs);
  }

  /** Whom the logged-in resident may put on a certificate, and what they can ask for. */
  subjects(): Promise<SubjectsResponse> {
    return this.requireApi().subjects();
  }

  /** Applies for a certificate and keeps the receipt. */
  async apply(req: CreateApplicationRequest): Promise<Application> {
    const api = this.requireApi();
    const app = await api.apply(req);
    this.emit('receipts', this.receipts.upsert(api.endpoint.baseUrl, [app]));
    return app;
  }

  /** Refreshes the receipts from the server (when logged in) and returns them. */
  async listReceipts(): Promise<StoredReceipt[]> {
    const api = this.api;
    if (api?.currentSession) this.emit('receipts', this.receipts.upsert(api.endpoint.baseUrl, await api.list()));
    return this.receipts.all();
  }

  /** Cancels an application. */
  async cancel(applicationId: string): Promise<void> {
    await this.requireApi().cancel(applicationId);
    this.receipts.setStatus(applicationId, 'cancelled');
    this.emit('receipts', this.receipts.all());
  }

  /** Print confirmation requests still open. */
  pendingConfirmations(): PrintConfirmationRequest[] {
    return [...(this.socket?.pending.values() ?? [])];
  }

  /** The resident's answer to a print confirmation request (signed with the device key). */
  respond(requestId: string, approved: boolean): void {
    if (!this.socket) throw new Error('not connected to the server');
    this.socket.respond(requestId, approved);
  }
}
