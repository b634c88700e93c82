import type { Application, CreateApplicationRequest, PrintConfirmationRequest } from '@cert/common';
import type { ServerEndpoint } from '@cert/common/node';
import { ApplicantApi, ApplicantSocketClient, DeviceKey, type AuthenticationToken } from 'desktop-applicant';

/** How an agent answers a print confirmation request. */
export type Answer = { approve: boolean; afterMs?: number } | 'ignore';

/** A confirmation request as it arrived on the agent's socket (`at` is `performance.now()`). */
export interface Arrival {
  request: PrintConfirmationRequest;
  at: number;
}

const APPROVE: Answer = { approve: true };

/**
 * A resident at home, made of the real applicant clients: logged in with a card, one device key,
 * its applicant socket open, answering the confirmation requests of its own applications as told
 * (approve at once by default) and keeping every request that was not for one of them.
 */
export class ResidentAgent {
  /** Applications this agent made, by id (every receipt number it was ever given). */
  readonly applications = new Map<string, Application>();
  /** Requests for applications this agent never made; any entry is a mis-routed push. */
  readonly strays: PrintConfirmationRequest[] = [];
  /** Error codes the server answered on the socket, by request id (e.g. a late approval). */
  readonly refusals = new Map<string, string[]>();
  /** Answers that could not be sent because the socket was down. */
  unsent = 0;
  readonly socket: ApplicantSocketClient;
  private readonly answers = new Map<string, Answer>();
  private readonly waiters = new Map<string, (a: Arrival) => void>();

  private constructor(
    readonly residentId: string,
    readonly displayName: string,
    readonly api: ApplicantApi,
    device: DeviceKey,
    endpoint: ServerEndpoint,
    socketOptions: { baseDelayMs?: number; maxDelayMs?: number },
  ) {
    this.socket = new ApplicantSocketClient(endpoint, device, socketOptions);
    this.socket.on('confirmation-request', (r) => this.onRequest(r));
    this.socket.on('server-error', (e) => {
      if (e.requestId) this.refusals.set(e.requestId, [...(this.refusals.get(e.requestId) ?? []), e.code]);
    });
  }

  /** Logs in through the wire with `card` and the device key kept at `keyPath` (created if missing). */
  static async login(
    endpoint: ServerEndpoint,
    residentId: string,
    card: AuthenticationToken,
    keyPath: string,
    socketOptions: { baseDelayMs?: number; maxDelayMs?: number } = {},
  ): Promise<ResidentAgent> {
    const device = DeviceKey.loadOrCreate(keyPath);
    const api = new ApplicantApi(endpoint);
    const login = await api.login(card, device);
    return new ResidentAgent(residentId, login.resident.displayName, api, device, endpoint, socketOptions);
  }

  /** Opens the applicant socket and waits until the device key is accepted. */
  async connect(timeoutMs = 30_000): Promise<void> {
    this.socket.start();
    await this.socket.whenAuthenticated(timeoutMs);
  }

  /** Applies and remembers the application. */
  async apply(order: CreateApplicationRequest): Promise<Application> {
    const app = await this.api.apply(order);
    this.applications.set(app.applicationId, app);
    return app;
  }

  /**
   * Sets how the next request for `applicationId` is answered and resolves when it arrives. Call
   * it before the kiosk claims, so that neither an earlier attempt's request nor a fast push is missed.
   */
  expectRequest(applicationId: string, answer: Answer = APPROVE): Promise<Arrival> {
    this.answers.set(applicationId, answer);
    return new Promise((resolve) => this.waiters.set(applicationId, resolve));
  }

  private onRequest(request: PrintConfirmationRequest): void {
    const at = performance.now();
    const app = this.applications.get(request.applicationId);
    if (!app || app.receiptNumber !== request.receiptNumber) {
      this.strays.push(request);
      return;
    }
    const waiter = this.waiters.get(request.applicationId);
    this.waiters.delete(request.applicationId);
    waiter?.({ request, at });
    const answer = this.answers.get(request.applicationId) ?? APPROVE;
    if (answer === 'ignore') return;
    const send = () => {
      try {
        this.socket.respond(request.requestId, answer.approve);
      } catch {
        this.unsent++;
      }
    };
    if (answer.afterMs) setTimeout(send, answer.afterMs);
    else send();
  }

  /** Closes the socket for good. */
  stop(): void {
    this.socket.stop();
  }
}
