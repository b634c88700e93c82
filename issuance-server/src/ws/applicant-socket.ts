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
import type { PhoneChanged, PhoneService, UsablePhone } from '../services/phone-service.ts';
import type { ApplicationChanged, AttemptChanged } from '../services/lifecycle-events.ts';
import { ServiceError, storeFailure } from '../services/service-error.ts';
import { rawErrorResponse } from '../routes/http-errors.ts';

interface Peer {
  ws: WebSocket;
  address: string;
  nonce: string;
  device: DeviceKey | null;
  /** Set when the device is a paired phone (PhoneService's binding rule decides what it gets). */
  phone: { id: string; residentId: string; pcDeviceKeySha256: string; active: boolean } | null;
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

function addTo(map: Map<string, Set<Peer>>, key: string, peer: Peer): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(peer);
}

function removeFrom(map: Map<string, Set<Peer>>, key: string, peer: Peer): void {
  const set = map.get(key);
  set?.delete(peer);
  if (set?.size === 0) map.delete(key);
}

/** The socket error code of a refused answer. */
function socketCode(e: ServiceError): SocketErrorCode {
  const passed: readonly string[] = ['signature_invalid', 'not_found', 'passkey_required', 'passkey_invalid', 'user_verification_required'];
  return passed.includes(e.code) ? (e.code as SocketErrorCode) : 'invalid_state';
}

/** The applicant socket (PROTOCOL.md): device-key authentication, confirmation requests, status pushes. */
export class ApplicantSocketHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  private readonly peers = new Set<Peer>();
  /** Authenticated peers by device key, so that a change reaches its sockets without a scan of all of them. */
  private readonly byDevice = new Map<string, Set<Peer>>();
  /** Authenticated phones by the PC device key they are bound to. */
  private readonly phonesByPc = new Map<string, Set<Peer>>();
  private unauthenticated = 0;
  private readonly unauthenticatedByAddress = new Map<string, number>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly issuance: IssuanceService,
    private readonly auth: AuthService,
    private readonly phones: PhoneService,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    this.issuance.changes.on('attempt', this.onAttempt);
    this.issuance.changes.on('application', this.onApplication);
    this.issuance.changes.on('resync', this.onResync);
    this.phones.changes.on('phone', this.onPhone);
    this.phones.changes.on('resync', this.onPhoneResync);
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
    const peer: Peer = { ws, address, nonce: randomBytes(32).toString('base64'), device: null, phone: null, missedPings: 0 };
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
    removeFrom(this.byDevice, peer.device.sha256, peer);
    if (peer.phone) removeFrom(this.phonesByPc, peer.phone.pcDeviceKeySha256, peer);
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
    if (msg.type === 'push-subscription') {
      if (!peer.phone) return this.fail(peer, 'invalid_message', 'only a paired phone has a push subscription');
      try {
        await this.phones.setPush(peer.phone.id, msg.subscription);
      } catch (e) {
        if (!(e instanceof ServiceError)) throw e;
        this.fail(peer, 'invalid_message', e.message);
      }
      return;
    }
    try {
      const phone = peer.phone ? { id: peer.phone.id, ...(msg.assertion ? { assertion: msg.assertion } : {}) } : undefined;
      await this.issuance.confirm(peer.device, msg.requestId, msg.approved, msg.signature, phone);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      this.fail(peer, socketCode(e), e.message, msg.requestId);
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
    if (await this.auth.isDeviceKnown(device.sha256)) return this.admit(peer, device, null);
    const phone = await this.phones.usable(device.sha256);
    if (typeof phone === 'string') {
      return this.refuse(peer, phone, phone === 'device_unknown' ? 'this device key was never registered by a login or a pairing' : 'this phone was removed, has expired, or its card certificate is no longer valid');
    }
    await this.admit(peer, device, phone);
  }

  private async admit(peer: Peer, device: DeviceKey, phone: UsablePhone | null): Promise<void> {
    if (peer.device || !this.peers.has(peer)) return;
    peer.device = device;
    this.countUnauthenticated(peer, -1);
    addTo(this.byDevice, device.sha256, peer);
    this.send(peer, { type: 'authenticated' });
    if (!phone) {
      for (const request of await this.issuance.pendingRequests([device.sha256])) this.send(peer, request);
      return;
    }
    peer.phone = { id: phone.phone.id, residentId: phone.phone.residentId, pcDeviceKeySha256: phone.phone.pcDeviceKeySha256, active: phone.state === 'active' };
    addTo(this.phonesByPc, phone.phone.pcDeviceKeySha256, peer);
    await this.phones.touch(phone.phone.id);
    this.send(peer, await this.phones.state(phone));
    if (phone.state !== 'active') return;
    for (const request of await this.issuance.pendingRequests([phone.phone.pcDeviceKeySha256], phone.phone.residentId)) this.send(peer, request);
  }

  private peersOf(deviceKeySha256: string): Peer[] {
    return [...(this.byDevice.get(deviceKeySha256) ?? [])];
  }

  /** The connected phones of a resident bound to a PC (not yet checked for trust). */
  private phonePeersOf(pcDeviceKeySha256: string, residentId: string): Peer[] {
    return [...(this.phonesByPc.get(pcDeviceKeySha256) ?? [])].filter((p) => p.phone?.residentId === residentId);
  }

  private readonly onAttempt = (c: AttemptChanged): void => {
    this.pushAttempt(c).catch((err: unknown) => this.log.error({ err, issuanceId: c.attemptId }, 'confirmation push failed'));
  };

  /** Every request goes to the PC and to every trusted phone bound to it; a phone without a live page gets a Web Push. */
  private async pushAttempt(c: AttemptChanged): Promise<void> {
    const pcs = this.peersOf(c.deviceKeySha256);
    const phonePeers = this.phonePeersOf(c.deviceKeySha256, c.residentId);
    const opening = c.status === 'confirmation_pending';
    // Only a new request can need a push; otherwise, with no socket to tell, there is nothing to do.
    if (!opening && pcs.length === 0 && phonePeers.length === 0) return;
    const trusted = opening || phonePeers.length ? await this.phones.boundPhones(c) : [];
    const trustedIds = new Set(trusted.map((p) => p.id));
    const targets = [...pcs, ...phonePeers.filter((p) => trustedIds.has(p.phone!.id))];
    if (opening) {
      const request = await this.issuance.pendingRequest(c.attemptId);
      if (!request) return;
      for (const p of targets) this.send(p, request);
      const offline = trusted.filter((p) => !this.byDevice.has(p.deviceKeySha256));
      if (offline.length) await this.phones.notify(offline, (Date.parse(request.expiresAt) - this.config.clock()) / 1000);
      return;
    }
    const reason = c.status === 'refused' ? await this.issuance.refusalOf(c.attemptId) : undefined;
    for (const p of targets) this.send(p, { type: 'print-confirmation-closed', requestId: c.requestId, status: c.status, ...(reason ? { reason } : {}) });
  }

  private readonly onApplication = (c: ApplicationChanged): void => {
    for (const p of this.peersOf(c.deviceKeySha256)) this.send(p, { type: 'application-status', applicationId: c.applicationId, status: c.status });
    const phones = this.phonePeersOf(c.deviceKeySha256, c.residentId);
    if (phones.length) this.refreshPhones(phones).catch((err: unknown) => this.log.error({ err }, 'phone state push failed'));
  };

  /**
   * Sends each phone its state as it is now (receipts, label), or closes the socket of one no
   * longer trusted. With `resendRequests`, an active phone gets the waiting requests again (after a
   * resync, requests other nodes made may not have reached it).
   */
  private async refreshPhones(peers: readonly Peer[], resendRequests = false): Promise<void> {
    for (const p of peers) {
      if (!p.device || !p.phone) continue;
      const phone = await this.phones.usable(p.device.sha256);
      if (typeof phone === 'string') {
        this.refuse(p, phone, 'this phone is no longer paired');
        continue;
      }
      const becameActive = !p.phone.active && phone.state === 'active';
      p.phone.active = phone.state === 'active';
      this.send(p, await this.phones.state(phone));
      // A phone confirmed on the PC just now gets the requests already waiting.
      if (becameActive || (resendRequests && phone.state === 'active')) {
        for (const request of await this.issuance.pendingRequests([phone.phone.pcDeviceKeySha256], phone.phone.residentId)) this.send(p, request);
      }
    }
  }

  private readonly onPhone = (c: PhoneChanged): void => {
    const peers = this.peersOf(c.deviceKeySha256);
    if (peers.length) this.refreshPhones(peers).catch((err: unknown) => this.log.error({ err }, 'phone state push failed'));
  };

  /** Requests other nodes made while this one could not hear them reach their devices now, read from the database. */
  private readonly onResync = (): void => {
    this.resendPending().catch((err: unknown) => this.log.warn({ err }, 'pending requests could not be sent again after a resync'));
  };

  private async resendPending(): Promise<void> {
    for (const device of [...this.byDevice.keys()]) {
      // A phone's requests are the PC's it is bound to: the phone resync below sends them.
      const pcs = this.peersOf(device).filter((p) => !p.phone);
      if (pcs.length === 0) continue;
      for (const request of await this.issuance.pendingRequests([device])) for (const p of pcs) this.send(p, request);
    }
  }

  /** Phone changes other nodes made while this one could not hear them: every connected phone is checked again. */
  private readonly onPhoneResync = (): void => {
    const phones = [...this.peers].filter((p) => p.phone);
    if (phones.length) this.refreshPhones(phones, true).catch((err: unknown) => this.log.warn({ err }, 'phones could not be checked again after a resync'));
  };

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
    this.phones.changes.off('phone', this.onPhone);
    this.phones.changes.off('resync', this.onPhoneResync);
    for (const p of this.peers) p.ws.terminate();
    this.wss.close();
  }
}
