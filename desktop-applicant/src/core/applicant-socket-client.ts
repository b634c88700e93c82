import {
  APPLICANT_SOCKET_PATH,
  SOCKET_CLOSE_UNAUTHORIZED,
  confirmationSignedText,
  deviceSignedText,
  serverSocketMessageSchema,
  type ApplicationStatus,
  type IssuanceStatus,
  type PrintConfirmationRequest,
} from '@cert/common';
import { serverNodes, type ServerEndpoint } from '@cert/common/node';
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import type { DeviceKey } from './device-key.ts';
import { realSchedule, type Schedule } from './schedule.ts';

/** Connection state shown to the resident. */
export type SocketState = 'connecting' | 'authenticated' | 'offline' | 'rejected' | 'stopped';

/** Events of the applicant socket client. */
export interface ApplicantSocketEvents {
  state: [SocketState, string?];
  'confirmation-request': [PrintConfirmationRequest];
  'confirmation-closed': [{ requestId: string; status: IssuanceStatus; reason?: string }];
  'application-status': [{ applicationId: string; status: ApplicationStatus }];
  'server-error': [{ code: string; message?: string; requestId?: string }];
}

/** Backoff in ms before the n-th reconnection attempt (n from 0), capped. */
export function reconnectDelay(attempt: number, baseMs = 500, maxMs = 30_000): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 16));
}

/**
 * The applicant socket: authenticates with the device key, keeps the print confirmation
 * requests the server sends (pending ones are re-sent on every reconnect), answers them signed,
 * and reconnects with backoff until stopped.
 */
export class ApplicantSocketClient extends EventEmitter<ApplicantSocketEvents> {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private cancelReconnect: (() => void) | null = null;
  private stopped = false;
  private current: SocketState = 'offline';
  /** The node the current socket goes to. */
  private node: string | null = null;
  /** Open requests by id, so a UI can render them after a restart of its view. */
  readonly pending = new Map<string, PrintConfirmationRequest>();

  constructor(
    private readonly endpoint: ServerEndpoint,
    private readonly device: DeviceKey,
    private readonly options: { baseDelayMs?: number; maxDelayMs?: number; schedule?: Schedule } = {},
  ) {
    super();
  }

  /** The connection state. */
  get state(): SocketState {
    return this.current;
  }

  private setState(s: SocketState, why?: string): void {
    this.current = s;
    this.emit('state', s, why);
  }

  /** Connects (and keeps reconnecting). */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Resolves once authenticated (or rejects after `timeoutMs`). */
  whenAuthenticated(timeoutMs = 10_000): Promise<void> {
    if (this.current === 'authenticated') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('state', on);
        reject(new Error(`applicant socket not authenticated within ${timeoutMs} ms (state ${this.current})`));
      }, timeoutMs);
      const on = (s: SocketState, why?: string) => {
        if (s === 'authenticated' || s === 'rejected') {
          clearTimeout(t);
          this.off('state', on);
          if (s === 'authenticated') resolve();
          else reject(new Error(`applicant socket rejected: ${why ?? ''}`));
        }
      };
      this.on('state', on);
    });
  }

  private connect(): void {
    if (this.stopped) return;
    // With several nodes, the one the HTTP calls use (or the next, when this one dropped us).
    const nodes = serverNodes(this.endpoint);
    const node = nodes.pick();
    const url = new URL(APPLICANT_SOCKET_PATH, node);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    this.setState('connecting');
    const ws = new WebSocket(url, { ...(this.endpoint.ca ? { ca: this.endpoint.ca } : {}), handshakeTimeout: 10_000 });
    this.ws = ws;
    this.node = node;
    ws.on('message', (data) => this.onMessage(ws, data.toString()));
    ws.on('error', () => {
      /* the close event follows and schedules the reconnect */
    });
    ws.on('close', (code, reason) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return this.setState('stopped');
      if (code === SOCKET_CLOSE_UNAUTHORIZED && reason.toString() === 'device_unknown') {
        // Only a new login can register the key; retrying would be pointless.
        return this.setState('rejected', 'device_unknown');
      }
      // The node dropped us or never answered: the next connection goes to the next node.
      nodes.failed(node);
      this.setState('offline', `closed (${code})`);
      const delay = reconnectDelay(this.attempt++, this.options.baseDelayMs, this.options.maxDelayMs);
      this.cancelReconnect = (this.options.schedule ?? realSchedule)(() => this.connect(), delay);
    });
  }

  private onMessage(ws: WebSocket, text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = serverSocketMessageSchema.safeParse(json);
    if (!parsed.success) return;
    const msg = parsed.data;
    switch (msg.type) {
      case 'hello':
        ws.send(JSON.stringify({ type: 'authenticate', devicePublicKey: this.device.publicKeyBase64, signature: this.device.sign(deviceSignedText(msg.nonce)) }));
        break;
      case 'authenticated':
        this.attempt = 0;
        if (this.node) serverNodes(this.endpoint).answered(this.node);
        this.pending.clear();
        this.setState('authenticated');
        break;
      case 'print-confirmation-request':
        this.pending.set(msg.requestId, msg);
        this.emit('confirmation-request', msg);
        break;
      case 'print-confirmation-closed':
        this.pending.delete(msg.requestId);
        this.emit('confirmation-closed', { requestId: msg.requestId, status: msg.status, ...(msg.reason ? { reason: msg.reason } : {}) });
        break;
      case 'application-status':
        this.emit('application-status', { applicationId: msg.applicationId, status: msg.status });
        break;
      case 'error':
        this.emit('server-error', { code: msg.code, ...(msg.message ? { message: msg.message } : {}), ...(msg.requestId ? { requestId: msg.requestId } : {}) });
        break;
    }
  }

  /** Answers a print confirmation request, signed with the device key. */
  respond(requestId: string, approved: boolean): void {
    if (!this.ws || this.current !== 'authenticated') throw new Error('not connected to the server; try again when the connection is back');
    this.ws.send(JSON.stringify({ type: 'print-confirmation-response', requestId, approved, signature: this.device.sign(confirmationSignedText(requestId, approved)) }));
  }

  /** Disconnects and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    this.cancelReconnect?.();
    this.ws?.close();
    if (!this.ws) this.setState('stopped');
  }
}
