// Shared harness of the server integration tests: a real server on 127.0.0.1 (port 0) over a
// seeded temp data dir, raw HTTP through global fetch, raw sockets through `ws`, and a few
// helpers that build requests exactly as a third-party client would.
import assert from 'node:assert/strict';
import {
  APPLICANT_SOCKET_PATH,
  applicationSchema,
  challengeResponseSchema,
  confirmationSignedText,
  createIssuanceResponseSchema,
  deviceSignedText,
  loginResponseSchema,
  loginSignedText,
  sha256DigestInfo,
  type Application,
  type CreateIssuanceResponse,
  type KosekiRecord,
  type KosekiRegistration,
  type RecordChange,
  type SealRegistrationRecord,
  type TaxRecord,
  type LoginResponse,
} from '@cert/common';
import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { connect } from 'node:net';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { seedDemo, type SeededDemo } from '@cert/scripts/demo';
import { ensureTestPki, type PkiCredential, type TestPkiManifest } from '@cert/scripts/pki';
import { sharedRenderPool, softwareToken } from '@cert/scripts/rig';
import { defaultServerConfig, type ServerConfig } from '../../src/config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import type { Resident } from '../../src/store/resident-store.ts';
import { testStorage, type TestStorage } from '../test-storage.ts';

// ---------------------------------------------------------------------------------------------
// PKI

let pkiPromise: Promise<TestPkiManifest> | null = null;

/** The shared test PKI (generated once if missing). */
export function testPki(): Promise<TestPkiManifest> {
  pkiPromise ??= ensureTestPki();
  return pkiPromise;
}

// ---------------------------------------------------------------------------------------------
// Device keys

/** An applicant device key (ECDSA P-256), as the applicant app keeps one. */
export class TestDevice {
  readonly privateKey: KeyObject;
  /** Base64 DER SubjectPublicKeyInfo. */
  readonly publicKeyBase64: string;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.privateKey = privateKey;
    this.publicKeyBase64 = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  }

  /** Raw r‖s ECDSA P-256/SHA-256 signature, base64. */
  sign(text: Uint8Array): string {
    return sign('sha256', text, { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
  }

  /** The socket `authenticate` message for a hello nonce. */
  authenticateMessage(nonce: string): Record<string, unknown> {
    return { type: 'authenticate', devicePublicKey: this.publicKeyBase64, signature: this.sign(deviceSignedText(nonce)) };
  }

  /** A signed `print-confirmation-response`. */
  response(requestId: string, approved: boolean): Record<string, unknown> {
    return { type: 'print-confirmation-response', requestId, approved, signature: this.sign(confirmationSignedText(requestId, approved)) };
  }
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

/** What a raw HTTP exchange answered. */
export interface HttpResult {
  status: number;
  headers: Headers;
  contentType: string;
  bytes: Buffer;
  text: string;
  /** Parsed JSON when the answer is JSON, else undefined. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever fields the answer has
  json: any;
}

/** Options of one raw request. */
export interface HttpOptions {
  /** Serialised as JSON with `Content-Type: application/json`. */
  json?: unknown;
  /** Sent as is (no content type unless given in headers). */
  body?: string | Buffer;
  headers?: Record<string, string>;
  bearer?: string;
  signal?: AbortSignal;
}

/** One request through global fetch, returning status, headers and the decoded body. */
export async function http(baseUrl: string, method: string, path: string, opts: HttpOptions = {}): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  let body: string | Buffer | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  }
  if (opts.bearer !== undefined) headers['authorization'] = `Bearer ${opts.bearer}`;
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const contentType = res.headers.get('content-type') ?? '';
  const text = bytes.toString('utf8');
  let json: unknown;
  if (contentType.includes('json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: res.status, headers: res.headers, contentType, bytes, text, json };
}

/** Asserts the exact contract error shape: status, JSON, `{"error": {"code", "message"}}` and nothing else. */
export function assertError(res: HttpResult, status: number, code: string, what = ''): void {
  const ctx = `${what} → HTTP ${res.status} ${res.text.slice(0, 300)}`;
  assert.equal(res.status, status, ctx);
  assert.match(res.contentType, /^application\/json/, ctx);
  assert.ok(res.json && typeof res.json === 'object', ctx);
  assert.deepEqual(Object.keys(res.json).sort(), ['error'], ctx);
  assert.deepEqual(Object.keys(res.json.error).sort(), ['code', 'message'], ctx);
  assert.equal(res.json.error.code, code, ctx);
  assert.equal(typeof res.json.error.message, 'string', ctx);
  assert.ok(res.json.error.message.length > 0, ctx);
}

/** Asserts a 4xx contract error of any code (used by the fuzz tests). */
export function assertClientError(res: HttpResult, what: string): void {
  const ctx = `${what} → HTTP ${res.status} ${res.text.slice(0, 300)}`;
  assert.ok(res.status >= 400 && res.status < 500, ctx);
  assert.match(res.contentType, /^application\/json/, ctx);
  assert.equal(typeof res.json?.error?.code, 'string', ctx);
  assert.equal(typeof res.json?.error?.message, 'string', ctx);
}

/**
 * Writes raw bytes to the server on a fresh TCP connection and returns what came back
 * (status null when the server closed without answering). For requests fetch cannot make.
 */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 3000): Promise<{ status: number | null; raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const raw = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
      resolve({ status: m ? Number(m[1]) : null, raw });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One answer is all we want; stop once its body is complete.
      const raw = Buffer.concat(chunks).toString('latin1');
      const headEnd = raw.indexOf('\r\n\r\n');
      const len = /\r\ncontent-length: (\d+)/i.exec(raw.slice(0, headEnd));
      if (headEnd >= 0 && len && raw.length >= headEnd + 4 + Number(len[1])) finish();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? finish() : reject(e)));
    socket.write(request);
  });
}

// ---------------------------------------------------------------------------------------------
// Raw WebSocket

/** A message the server sent on the applicant socket. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever fields a message has
export type SocketMessage = { type: string; [k: string]: any };

/** A raw applicant socket that records every message and lets a test await them in order. */
export class TestSocket {
  readonly messages: SocketMessage[] = [];
  /** Non-JSON frames, if the server ever sent one. */
  readonly garbage: string[] = [];
  private readonly taken = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private closeInfo: { code: number; reason: string } | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: RawData) => {
      const text = data.toString();
      try {
        this.messages.push(JSON.parse(text) as SocketMessage);
      } catch {
        this.garbage.push(text);
      }
      for (const l of [...this.listeners]) l();
    });
    ws.on('error', () => {
      /* surfaced through close */
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
        for (const l of [...this.listeners]) l();
      });
    });
  }

  /** True once the socket has closed. */
  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /** Sends a JSON message (or a raw string). */
  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  private take(type: string, where?: (m: SocketMessage) => boolean): SocketMessage | undefined {
    for (let i = 0; i < this.messages.length; i++) {
      const m = this.messages[i]!;
      if (!this.taken.has(i) && m.type === type && (!where || where(m))) {
        this.taken.add(i);
        return m;
      }
    }
    return undefined;
  }

  /** The first not-yet-awaited message of `type` (matching `where`), waiting up to `timeoutMs`. */
  next(type: string, where?: (m: SocketMessage) => boolean, timeoutMs = 5000): Promise<SocketMessage> {
    const now = this.take(type, where);
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.take(type, where);
        if (m) {
          done();
          resolve(m);
        } else if (this.closeInfo) {
          done();
          reject(new Error(`socket closed (${this.closeInfo.code} ${this.closeInfo.reason}) before a "${type}" message; got ${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no "${type}" message within ${timeoutMs} ms; got ${this.describe()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
    });
  }

  /**
   * A round trip that proves the server has sent everything it had to send this socket so far:
   * an answer to a request id nobody issued is looked up in the database, which serves
   * requests in order, so its `not_found` error comes after any push already under way.
   */
  async sync(device: TestDevice): Promise<void> {
    const requestId = `sync-${randomUUID()}`;
    this.send(device.response(requestId, false));
    await this.next('error', (m) => m.requestId === requestId);
  }

  /** Asserts that no (untaken) message of `type` came before a {@link sync} round trip. */
  async assertNone(device: TestDevice, type: string, where?: (m: SocketMessage) => boolean): Promise<void> {
    await this.sync(device);
    const found = this.messages.find((m, i) => !this.taken.has(i) && m.type === type && (!where || where(m)));
    assert.equal(found, undefined, `unexpected "${type}" message: ${JSON.stringify(found)}`);
  }

  /** Waits for the socket to close, failing after `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms; got ${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A short summary of the messages so far, for failure messages. */
  describe(): string {
    return JSON.stringify(this.messages.map((m) => m.type));
  }

  /** Closes the socket without ceremony. */
  terminate(): void {
    this.ws.terminate();
  }
}


// ---------------------------------------------------------------------------------------------
// The server under test

/** Options that make the server quiet and the kiosk limits out of the way unless a test wants them. */
export const TEST_CONFIG_DEFAULTS: Partial<ServerConfig> = {
  logLevel: 'silent',
  kioskRateLimit: { burst: 10_000, perMinute: 10_000 },
  globalRateLimit: { burst: 10_000, perMinute: 10_000 },
  authAddressRateLimit: { burst: 10_000, perMinute: 10_000 },
  authGlobalRateLimit: { burst: 10_000, perMinute: 10_000 },
};

/** A logged-in applicant. */
export interface Applicant {
  token: string;
  device: TestDevice;
  login: LoginResponse;
}

/** A running, seeded server with helpers for the tests. */
export class TestServer {
  private readonly sockets = new Set<TestSocket>();

  private constructor(
    readonly server: RunningServer,
    readonly config: ServerConfig,
    private readonly storage: TestStorage<SeededDemo | null>,
    /** False for further nodes on the first one's database: the first removes it. */
    private readonly ownsStorage: boolean,
    readonly pki: TestPkiManifest,
    private readonly skew: { ms: number },
  ) {}

  /** The SQLite data directory ('' on PostgreSQL). */
  get dataDir(): string {
    return this.storage.config.dataDir;
  }

  /** The seeded demo data (kiosk credentials), null when started unseeded. */
  get seeded(): SeededDemo | null {
    return this.storage.prepared;
  }

  /** Moves the server's clock (and its other nodes' clocks) forward (deadlines, expiries) without waiting. */
  advance(ms: number): void {
    this.skew.ms += ms;
  }

  /**
   * Starts a server on 127.0.0.1:0 over fresh storage (a temp data dir, or a fresh PostgreSQL
   * database when the tests run on PostgreSQL: see test-storage.ts), seeded with the demo data
   * unless `seed` is false.
   */
  static async start(overrides: Partial<ServerConfig> = {}, seed = true): Promise<TestServer> {
    const pki = await testPki();
    const storage = await testStorage(seed ? 'seeded' : 'empty', async (where) => (seed ? seedDemo(where, pki) : null));
    try {
      return await TestServer.on(storage, true, pki, { ms: 0 }, overrides);
    } catch (e) {
      await storage.remove();
      throw e;
    }
  }

  private static async on(storage: TestStorage<SeededDemo | null>, owns: boolean, pki: TestPkiManifest, skew: { ms: number }, overrides: Partial<ServerConfig>): Promise<TestServer> {
    const base = { ...defaultServerConfig(storage.config.dataDir), ...storage.config };
    const config: ServerConfig = { ...base, ...TEST_CONFIG_DEFAULTS, port: 0, host: '127.0.0.1', clock: () => Date.now() + skew.ms, ...overrides };
    const server = await startServer(config, undefined, { renderer: await sharedRenderPool() });
    return new TestServer(server, config, storage, owns, pki, skew);
  }

  /** Another node on this server's PostgreSQL database, with the same clock (stop it before this one). */
  node(overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
    if (!this.storage.config.databaseUrl) throw new Error('several nodes need PostgreSQL (ISSUANCE_TEST_POSTGRES)');
    return TestServer.on(this.storage, false, this.pki, this.skew, overrides);
  }

  get url(): string {
    return this.server.url;
  }

  get port(): number {
    return this.server.port;
  }

  /** Credential of seeded kiosk `i` (0 or 1). */
  kiosk(i = 0): { id: string; name: string; credential: string } {
    const k = this.seeded?.kiosks[i];
    if (!k) throw new Error(`no seeded kiosk ${i}`);
    return k;
  }

  /** A raw request against this server. */
  http(method: string, path: string, opts: HttpOptions = {}): Promise<HttpResult> {
    return http(this.url, method, path, opts);
  }

  /** The card credential of a resident (`R0001`...) or a special test card. */
  card(who: string): PkiCredential {
    const r = this.pki.residents[who];
    if (r) return r.auth;
    const s = (this.pki.special as Record<string, PkiCredential>)[who];
    if (s) return s;
    throw new Error(`no test card ${who}`);
  }

  /** A fresh challenge (asserting the 201 shape). */
  async challenge(): Promise<{ challengeId: string; nonce: string; expiresAt: string }> {
    const res = await this.http('POST', '/api/v1/auth/challenge');
    assert.equal(res.status, 201, res.text);
    return challengeResponseSchema.parse(res.json);
  }

  /** The login body a client builds: the card signs the DigestInfo of SHA-256 over the login text. */
  async loginBody(card: PkiCredential, device: TestDevice, challenge?: { challengeId: string; nonce: string }): Promise<Record<string, string>> {
    const c = challenge ?? (await this.challenge());
    const token = softwareToken(card);
    const hash = createHash('sha256').update(loginSignedText(c.challengeId, c.nonce)).digest();
    const signature = await token.signDigestInfo(sha256DigestInfo(hash));
    const certificate = await token.certificate();
    return { challengeId: c.challengeId, certificate: certificate.toString('base64'), signature: signature.toString('base64'), devicePublicKey: device.publicKeyBase64 };
  }

  /** Logs a resident in (with a new device key unless one is given). */
  async login(who: string, device: TestDevice = new TestDevice()): Promise<Applicant> {
    const res = await this.http('POST', '/api/v1/auth/login', { json: await this.loginBody(this.card(who), device) });
    assert.equal(res.status, 200, `login ${who}: ${res.text}`);
    const login = loginResponseSchema.parse(res.json);
    return { token: login.sessionToken, device, login };
  }

  /** Applies for a juminhyo (201 asserted). */
  async apply(who: Applicant, body: Record<string, unknown> = { certificateType: 'juminhyo', options: {}, copies: 1 }): Promise<Application> {
    const res = await this.http('POST', '/api/v1/applications', { json: body, bearer: who.token });
    assert.equal(res.status, 201, `apply: ${res.text}`);
    return applicationSchema.parse(res.json);
  }

  /** A kiosk claims a receipt number (raw answer). */
  claimRaw(kiosk: number, receiptNumber: string): Promise<HttpResult> {
    return this.http('POST', '/api/v1/kiosk/issuances', { json: { receiptNumber }, bearer: this.kiosk(kiosk).credential });
  }

  /** A kiosk claims a receipt number (201 asserted). */
  async claim(kiosk: number, receiptNumber: string): Promise<CreateIssuanceResponse> {
    const res = await this.claimRaw(kiosk, receiptNumber);
    assert.equal(res.status, 201, `claim: ${res.text}`);
    return createIssuanceResponseSchema.parse(res.json);
  }

  /** Kiosk status (long-poll when waitMs > 0). */
  kioskStatus(kiosk: number, issuanceId: string, waitMs = 0, extraQuery = ''): Promise<HttpResult> {
    return this.http('GET', `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}?waitMs=${waitMs}${extraQuery}`, { bearer: this.kiosk(kiosk).credential });
  }

  /** Kiosk document fetch (raw). */
  kioskDocument(kiosk: number, issuanceId: string): Promise<HttpResult> {
    return this.http('GET', `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}/document`, { bearer: this.kiosk(kiosk).credential });
  }

  /** Kiosk result report (raw). */
  kioskResult(kiosk: number, issuanceId: string, body: Record<string, unknown>): Promise<HttpResult> {
    return this.http('POST', `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}/result`, { json: body, bearer: this.kiosk(kiosk).credential });
  }

  /** Kiosk abandon (raw). */
  kioskAbandon(kiosk: number, issuanceId: string): Promise<HttpResult> {
    return this.http('DELETE', `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}`, { bearer: this.kiosk(kiosk).credential });
  }

  /** The applicant's view of one application (200 asserted). */
  async application(who: Applicant, id: string): Promise<Application> {
    const res = await this.http('GET', `/api/v1/applications/${encodeURIComponent(id)}`, { bearer: who.token });
    assert.equal(res.status, 200, res.text);
    return applicationSchema.parse(res.json);
  }

  /** Opens a raw applicant socket (closed by `close()`). */
  async socket(options: ClientOptions = {}, path = APPLICANT_SOCKET_PATH): Promise<TestSocket> {
    const url = new URL(path, this.url);
    url.protocol = 'ws:';
    const ws = new WebSocket(url, options);
    const s = new TestSocket(ws);
    this.sockets.add(s);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return s;
  }

  /** Opens a socket and authenticates it with `device` (authenticated asserted). */
  async deviceSocket(device: TestDevice, options: ClientOptions = {}): Promise<TestSocket> {
    const s = await this.socket(options);
    const hello = await s.next('hello');
    s.send(device.authenticateMessage(hello.nonce));
    await s.next('authenticated');
    return s;
  }

  /** Claims a receipt and approves it from an authenticated device socket; returns the issuance. */
  async claimAndApprove(kiosk: number, app: Application, device: TestDevice, sock: TestSocket): Promise<CreateIssuanceResponse> {
    const issuance = await this.claim(kiosk, app.receiptNumber);
    const req = await sock.next('print-confirmation-request', (m) => m.applicationId === app.applicationId);
    sock.send(device.response(req.requestId, true));
    const st = await this.kioskStatus(kiosk, issuance.issuanceId, 5000);
    assert.equal(st.json?.status, 'approved', st.text);
    return issuance;
  }

  /** Stops the server, terminates every socket it handed out and removes its data (unless another node's). */
  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.sockets.clear();
    try {
      await this.server.close();
    } finally {
      if (this.ownsStorage) await this.storage.remove();
    }
  }

  /** Rows of a read-only query on the server's database (for invariants the wire cannot show). */
  query<R>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.server.context.store.db.read((x) => x.all<R>(sql, params));
  }

  /** Runs a statement in a write transaction of the server's database (tests that tamper with it). */
  execute(sql: string, params: unknown[] = []): Promise<{ changes: number }> {
    return this.server.context.store.db.write((x) => x.run(sql, params));
  }

  private recordsCredential: Promise<string> | null = null;

  /** Sends record changes through the live-update API as the resident-records system does (its credential issued on first use). */
  async updateRecords(changes: unknown[]): Promise<HttpResult> {
    this.recordsCredential ??= this.server.context.admin.registerApiClient('住民記録システム (test)').then((c) => c.credential);
    return this.http('POST', '/api/v1/admin/records', { json: { changes }, bearer: await this.recordsCredential });
  }

  /** Changes a stored record through the live-update API, one version newer (200 and `applied` asserted); a tax record is `residentId/fiscalYear`, a 利用登録 `residentId/kosekiId`. */
  async changeRecord(kind: 'resident', id: string, patch: Partial<Resident>): Promise<void>;
  async changeRecord(kind: 'seal', residentId: string, patch: Partial<SealRegistrationRecord>): Promise<void>;
  async changeRecord(kind: 'koseki', kosekiId: string, patch: Partial<KosekiRecord>): Promise<void>;
  async changeRecord(kind: 'tax', key: string, patch: Partial<TaxRecord>): Promise<void>;
  async changeRecord(kind: 'koseki-registration', key: string, patch: Partial<KosekiRegistration>): Promise<void>;
  async changeRecord(kind: RecordChange['kind'], id: string, patch: object): Promise<void> {
    const [a, b] = id.split('/') as [string, string];
    const stored: { version: number } | null = await this.server.context.store.read(async (tx) => {
      switch (kind) {
        case 'resident':
          return tx.residents.get(id);
        case 'koseki':
          return tx.records.koseki(id);
        case 'tax':
          return tx.records.tax(a, Number(b));
        case 'koseki-registration':
          return tx.records.registration(a, b);
        case 'seal': {
          const seal = await tx.records.seal(id);
          if (!seal) return null;
          const { image, ...rest } = seal;
          return { ...rest, imagePngBase64: image.toString('base64') };
        }
      }
    });
    assert.ok(stored, `no stored ${kind} ${id}`);
    const res = await this.updateRecords([{ kind, record: { ...stored, ...patch, version: stored.version + 1 } }]);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.results[0].result, 'applied', res.text);
  }

  /** Terminates the sockets opened so far (for afterEach). */
  closeSockets(): void {
    for (const s of this.sockets) s.terminate();
    this.sockets.clear();
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 3000, stepMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms (last ${JSON.stringify(last)})`);
    await delay(stepMs);
  }
}

/** A receipt number with a wrong check digit (the last digit changed). */
export function breakCheckDigit(receipt: string): string {
  const last = Number(receipt.at(-1));
  return receipt.slice(0, -1) + String((last + 1) % 10);
}
