import {
  APPLICANT_SOCKET_PATH,
  SOCKET_CLOSE_UNAUTHORIZED,
  deviceSignedText,
  deviceSocketMessageSchema,
  type ServerSocketMessage,
  type SocketErrorCode,
} from '@cert/common';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerConfig } from '../config.ts';
import { parseDeviceKey, verifyDeviceSignature, type DeviceKey } from '../services/device-keys.ts';
import type { IssuanceService } from '../services/issuance-service.ts';
import type { ApplicationChanged, AttemptChanged, LifecycleEvents } from '../services/lifecycle-events.ts';
import { ServiceError } from '../services/service-error.ts';
import { rawErrorResponse } from '../routes/http-errors.ts';
import type { SessionStore } from '../store/session-store.ts';

interface Peer {
  ws: WebSocket;
  nonce: string;
  device: DeviceKey | null;
  missedPings: number;
}

const MAX_UNAUTHENTICATED = 1000;

/** The applicant socket (PROTOCOL.md): device-key authentication, confirmation requests, status pushes. */
export class ApplicantSocketHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  private readonly peers = new Set<Peer>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly issuance: IssuanceService,
    private readonly sessions: SessionStore,
    private readonly events: LifecycleEvents,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    this.events.on('attempt', this.onAttempt);
    this.events.on('application', this.onApplication);
    this.heartbeat = setInterval(() => this.ping(), config.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Handles an HTTP upgrade; anything but the applicant socket path is refused before the handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    let path: string | null = null;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      // A request target no URL parser accepts (e.g. `http://[`) must not throw out of the 'upgrade' event.
    }
    const unauthenticated = [...this.peers].filter((p) => !p.device).length;
    if (path !== APPLICANT_SOCKET_PATH || unauthenticated >= MAX_UNAUTHENTICATED) {
      socket.end(path !== APPLICANT_SOCKET_PATH ? rawErrorResponse('not_found', 'no WebSocket endpoint here') : rawErrorResponse('service_unavailable', 'too many connections'));
      socket.destroy();
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
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

  private accept(ws: WebSocket): void {
    const peer: Peer = { ws, nonce: randomBytes(32).toString('base64'), device: null, missedPings: 0 };
    this.peers.add(peer);
    const authTimer = setTimeout(() => {
      if (!peer.device) this.refuse(peer, 'authentication_timeout', 'no authenticate message in time');
    }, this.config.socketAuthTimeoutMs);
    ws.on('pong', () => {
      peer.missedPings = 0;
    });
    ws.on('close', () => {
      clearTimeout(authTimer);
      this.peers.delete(peer);
    });
    ws.on('error', (err) => this.log.debug({ err }, 'applicant socket error'));
    ws.on('message', (data, isBinary) => this.onMessage(peer, isBinary ? null : data.toString()));
    this.send(peer, { type: 'hello', nonce: peer.nonce });
  }

  private onMessage(peer: Peer, text: string | null): void {
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
      this.issuance.confirm(peer.device, msg.requestId, msg.approved, msg.signature);
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      const code: SocketErrorCode = e.code === 'signature_invalid' || e.code === 'not_found' ? e.code : 'invalid_state';
      this.fail(peer, code, e.message, msg.requestId);
    }
  }

  private authenticate(peer: Peer, publicKey: string, signature: string): void {
    let device: DeviceKey;
    try {
      device = parseDeviceKey(publicKey);
    } catch {
      return this.refuse(peer, 'authentication_failed', 'devicePublicKey must be a P-256 SubjectPublicKeyInfo');
    }
    if (!verifyDeviceSignature(device.key, deviceSignedText(peer.nonce), signature)) {
      return this.refuse(peer, 'authentication_failed', 'the signature over the nonce does not verify');
    }
    if (!this.sessions.isDeviceKnown(device.sha256)) {
      return this.refuse(peer, 'device_unknown', 'this device key was never registered by a login');
    }
    peer.device = device;
    this.send(peer, { type: 'authenticated' });
    for (const request of this.issuance.pendingRequests(device.sha256)) this.send(peer, request);
  }

  private peersOf(deviceKeySha256: string): Peer[] {
    return [...this.peers].filter((p) => p.device?.sha256 === deviceKeySha256);
  }

  private readonly onAttempt = (c: AttemptChanged): void => {
    const peers = this.peersOf(c.deviceKeySha256);
    if (peers.length === 0) return;
    if (c.status === 'confirmation_pending') {
      const attempt = this.issuance.pendingRequests(c.deviceKeySha256).find((r) => r.requestId === c.requestId);
      if (attempt) for (const p of peers) this.send(p, attempt);
    } else {
      for (const p of peers) this.send(p, { type: 'print-confirmation-closed', requestId: c.requestId, status: c.status });
    }
  };

  private readonly onApplication = (c: ApplicationChanged): void => {
    for (const p of this.peersOf(c.deviceKeySha256)) this.send(p, { type: 'application-status', applicationId: c.applicationId, status: c.status });
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
    this.events.off('attempt', this.onAttempt);
    this.events.off('application', this.onApplication);
    for (const p of this.peers) p.ws.terminate();
    this.wss.close();
  }
}
