import {
  APPLICANT_SOCKET_PATH,
  SOCKET_CLOSE_UNAUTHORIZED,
  deviceSignedText,
  deviceSocketMessageSchema,
  type ErrorCode,
  type ServerSocketMessage,
  type SocketErrorCode,
} from '@cert/common';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerConfig } from '../config.ts';
import type { AuthService } from '../services/auth-service.ts';
import { parseDeviceKey, verifyDeviceSignature, type DeviceKey } from '../services/device-keys.ts';
import type { IssuanceService } from '../services/issuance-service.ts';
import type { ApplicationChanged, AttemptChanged } from '../services/lifecycle-events.ts';
import { ServiceError, storeFailure } from '../services/service-error.ts';
import { rawErrorResponse } from '../routes/http-errors.ts';

interface Peer {
  ws: WebSocket;
  address: string;
  nonce: string;
  device: DeviceKey | null;
  missedPings: number;
}

const MAX_UNAUTHENTICATED = 1000;
/** So that one client holding sockets open unauthenticated cannot lock every device out. */
const MAX_UNAUTHENTICATED_PER_ADDRESS = 20;
const WS_KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Why an upgrade request is not a WebSocket handshake we accept, or null when it is one. */
function handshakeProblem(req: IncomingMessage): { code: ErrorCode; message: string; headers?: Record<string, string> } | null {
  if (req.method !== 'GET') return { code: 'method_not_allowed', message: 'a WebSocket handshake must be a GET request', headers: { Allow: 'GET' } };
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return { code: 'invalid_request', message: 'only "Upgrade: websocket" is supported here' };
  if (!WS_KEY.test(req.headers['sec-websocket-key'] ?? '')) return { code: 'invalid_request', message: 'Sec-WebSocket-Key must be 16 random bytes in base64' };
  if (req.headers['sec-websocket-version'] !== '13') {
    return { code: 'invalid_request', message: 'only WebSocket version 13 is supported', headers: { 'Sec-WebSocket-Version': '13' } };
  }
  return null;
}

/** The applicant socket (PROTOCOL.md): device-key authentication, confirmation requests, status pushes. */
export class ApplicantSocketHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  private readonly peers = new Set<Peer>();
  /** Authenticated peers by device key, so that a change reaches its sockets without a scan of all of them. */
  private readonly byDevice = new Map<string, Set<Peer>>();
  private unauthenticated = 0;
  private readonly unauthenticatedByAddress = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly issuance: IssuanceService,
    private readonly auth: AuthService,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    this.issuance.changes.on('attempt', this.onAttempt);
    this.issuance.changes.on('application', this.onApplication);
    this.issuance.changes.on('resync', this.onResync);
    this.heartbeat = setInterval(() => this.ping(), config.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Handles an HTTP upgrade; anything but a well-formed handshake on the applicant socket path is refused in the contract's shape. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let path: string | null = null;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      // A request target no URL parser accepts (e.g. `http://[`) must not throw out of the 'upgrade' event.
    }
    const refuse = (code: ErrorCode, message: string, headers?: Record<string, string>) => {
      socket.end(rawErrorResponse(code, message, headers));
    };
    if (path !== APPLICANT_SOCKET_PATH) return refuse('not_found', 'no WebSocket endpoint here');
    const problem = handshakeProblem(req);
    if (problem) return refuse(problem.code, problem.message, problem.headers);
    const address = req.socket.remoteAddress ?? 'unknown';
    if (this.unauthenticated >= MAX_UNAUTHENTICATED || (this.unauthenticatedByAddress.get(address) ?? 0) >= MAX_UNAUTHENTICATED_PER_ADDRESS) {
      return refuse('service_unavailable', 'too many connections waiting to authenticate', { 'Retry-After': '5' });
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, address));
  }

  private send(peer: Peer, msg: ServerSocketMessage): void {
    if (peer.ws.readyState === peer.ws.OPEN) peer.ws.send(JSON.stringify(msg));
  }

  private fail(peer: Peer, code: SocketErrorCode, message: string, requestId?: string): void {
    this.send(peer, { type: 'error', code, message, ...(requestId ? { requestId } : {}) });
  }

  private refuse(peer: Peer, code: SocketErrorCode, message: string): void {
    this.fail(peer, code, message);
    peer.ws.close(SOCKET_CLOSE_UNAUTHORIZED, code);
  }

  private accept(ws: WebSocket, address: string): void {
    const peer: Peer = { ws, address, nonce: randomBytes(32).toString('base64'), device: null, missedPings: 0 };
    this.peers.add(peer);
    this.countUnauthenticated(peer, 1);
    const authTimer = setTimeout(() => {
      if (!peer.device) this.refuse(peer, 'authentication_timeout', 'no authenticate message in time');
    }, this.config.socketAuthTimeoutMs);
    ws.on('pong', () => {
      peer.missedPings = 0;
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.forget(peer);
    });
    ws.on('error', (err) => this.log.debug({ err }, 'applicant socket error'));
    ws.on('message', (data, isBinary) => {
      this.onMessage(peer, isBinary ? null : data.toString()).catch((err: unknown) => this.handlerFailed(peer, err));
    });
    this.send(peer, { type: 'hello', nonce: peer.nonce });
  }

  private countUnauthenticated(peer: Peer, delta: 1 | -1): void {
    this.unauthenticated += delta;
    const n = (this.unauthenticatedByAddress.get(peer.address) ?? 0) + delta;
    if (n > 0) this.unauthenticatedByAddress.set(peer.address, n);
    else this.unauthenticatedByAddress.delete(peer.address);
  }

  private forget(peer: Peer): void {
    if (!this.peers.delete(peer)) return;
    if (!peer.device) {
      this.countUnauthenticated(peer, -1);
      return;
    }
    const set = this.byDevice.get(peer.device.sha256);
    set?.delete(peer);
    if (set?.size === 0) this.byDevice.delete(peer.device.sha256);
  }

  /** A handler failed on something that is not the peer's fault: log it, tell the peer, keep serving. */
  private handlerFailed(peer: Peer, err: unknown): void {
    const refused = storeFailure(err);
    if (refused) {
      this.fail(peer, refused.code === 'service_unavailable' ? 'service_unavailable' : 'invalid_message', refused.message);
      return;
    }
    this.log.error({ err }, 'applicant socket handler failed');
    this.fail(peer, 'internal_error', 'the server could not handle this message; try again');
  }

  private async onMessage(peer: Peer, text: string | null): Promise<void> {
    let json: unknown;
    try {
      json = text === null ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = deviceSocketMessageSchema.safeParse(json);
    if (!parsed.success) {
      if (!peer.device) return this.refuse(peer, 'authentication_failed', 'expected an authenticate message');
      return this.fail(peer, 'invalid_message', 'message does not match the contract');
    }
    const msg = parsed.data;
    if (msg.type === 'authenticate') {
      if (peer.device) return this.fail(peer, 'invalid_message', 'already authenticated');
      return this.authenticate(peer, msg.devicePublicKey, msg.signature);
    }
    if (!peer.device) return this.refuse(peer, 'authentication_failed', 'authenticate first');
    try {
      await this.issuance.confirm(peer.device, msg.requestId, msg.approved, msg.signature);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      const code: SocketErrorCode = e.code === 'signature_invalid' || e.code === 'not_found' ? e.code : 'invalid_state';
      this.fail(peer, code, e.message, msg.requestId);
    }
  }

  private async authenticate(peer: Peer, publicKey: string, signature: string): Promise<void> {
    let device: DeviceKey;
    try {
      device = parseDeviceKey(publicKey);
    } catch {
      return this.refuse(peer, 'authentication_failed', 'devicePublicKey must be a P-256 SubjectPublicKeyInfo');
    }
    if (!verifyDeviceSignature(device.key, deviceSignedText(peer.nonce), signature)) {
      return this.refuse(peer, 'authentication_failed', 'the signature over the nonce does not verify');
    }
    if (!(await this.auth.isDeviceKnown(device.sha256))) {
      return this.refuse(peer, 'device_unknown', 'this device key was never registered by a login');
    }
    if (peer.device || !this.peers.has(peer)) return;
    peer.device = device;
    this.countUnauthenticated(peer, -1);
    let set = this.byDevice.get(device.sha256);
    if (!set) this.byDevice.set(device.sha256, (set = new Set()));
    set.add(peer);
    this.send(peer, { type: 'authenticated' });
    for (const request of await this.issuance.pendingRequests([device.sha256])) this.send(peer, request);
  }

  private peersOf(deviceKeySha256: string): Peer[] {
    return [...(this.byDevice.get(deviceKeySha256) ?? [])];
  }

  private readonly onAttempt = (c: AttemptChanged): void => {
    if (!this.byDevice.has(c.deviceKeySha256)) return;
    this.pushAttempt(c).catch((err: unknown) => this.log.error({ err, issuanceId: c.attemptId }, 'confirmation push failed'));
  };

  private async pushAttempt(c: AttemptChanged): Promise<void> {
    if (c.status === 'confirmation_pending') {
      const request = await this.issuance.pendingRequest(c.attemptId);
      if (request) for (const p of this.peersOf(c.deviceKeySha256)) this.send(p, request);
      return;
    }
    const reason = c.status === 'refused' ? await this.issuance.refusalOf(c.attemptId) : undefined;
    for (const p of this.peersOf(c.deviceKeySha256)) this.send(p, { type: 'print-confirmation-closed', requestId: c.requestId, status: c.status, ...(reason ? { reason } : {}) });
  }

  private readonly onApplication = (c: ApplicationChanged): void => {
    for (const p of this.peersOf(c.deviceKeySha256)) this.send(p, { type: 'application-status', applicationId: c.applicationId, status: c.status });
  };

  /** Requests other nodes made while this one could not hear them reach their devices now, read from the database. */
  private readonly onResync = (): void => {
    this.resendPending().catch((err: unknown) => this.log.warn({ err }, 'pending requests could not be sent again after a resync'));
  };

  private async resendPending(): Promise<void> {
    for (const device of [...this.byDevice.keys()]) {
      for (const request of await this.issuance.pendingRequests([device])) for (const p of this.peersOf(device)) this.send(p, request);
    }
  }

  private ping(): void {
    for (const p of this.peers) {
      // Two pings without a pong: the peer is gone (PROTOCOL.md).
      if (p.missedPings >= 2) {
        p.ws.terminate();
        continue;
      }
      p.missedPings++;
      p.ws.ping();
    }
  }

  /** Closes every socket and stops the heartbeat. */
  close(): void {
    clearInterval(this.heartbeat);
    this.issuance.changes.off('attempt', this.onAttempt);
    this.issuance.changes.off('application', this.onApplication);
    this.issuance.changes.off('resync', this.onResync);
    for (const p of this.peers) p.ws.terminate();
    this.wss.close();
  }
}
