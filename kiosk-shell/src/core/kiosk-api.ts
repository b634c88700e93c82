import {
  createIssuanceResponseSchema,
  issuanceStatusOnlySchema,
  issuanceStatusResponseSchema,
  type CreateIssuanceResponse,
  type IssuanceStatus,
  type IssuanceStatusResponse,
  type PaymentReport,
} from '@cert/common';
import { callJson, httpCall, NetworkError, type ServerEndpoint } from '@cert/common/node';

/** The kiosk's HTTP client for the issuance API (PROTOCOL.md, Kiosk). */
export class KioskApi {
  constructor(
    readonly endpoint: ServerEndpoint,
    private readonly credential: string,
  ) {}

  /** Claims a receipt number; the server asks the applicant's device to approve. */
  start(receiptNumber: string): Promise<CreateIssuanceResponse> {
    return callJson(this.endpoint, { method: 'POST', path: '/api/v1/kiosk/issuances', body: { receiptNumber }, bearer: this.credential }, createIssuanceResponseSchema);
  }

  /** Long-polls until the status differs from `since` or `waitMs` passes; the answer carries the refusal reason of a `refused` attempt. */
  issuance(issuanceId: string, waitMs: number, since?: IssuanceStatus, signal?: AbortSignal): Promise<IssuanceStatusResponse> {
    const q = new URLSearchParams({ waitMs: String(waitMs), ...(since ? { since } : {}) });
    return callJson(
      this.endpoint,
      { method: 'GET', path: `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}?${q}`, bearer: this.credential, timeoutMs: waitMs + 15_000, ...(signal ? { signal } : {}) },
      issuanceStatusResponseSchema,
    );
  }

  /** {@link issuance}, the status only. */
  async status(issuanceId: string, waitMs: number, since?: IssuanceStatus, signal?: AbortSignal): Promise<IssuanceStatus> {
    return (await this.issuance(issuanceId, waitMs, since, signal)).status;
  }

  /** Downloads the approved certificate PDF. */
  async document(issuanceId: string): Promise<Buffer> {
    const r = await httpCall(this.endpoint, { method: 'GET', path: `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}/document`, bearer: this.credential, timeoutMs: 60_000 });
    if (!r.contentType.startsWith('application/pdf')) throw new NetworkError('the document endpoint did not answer a PDF');
    return r.body;
  }

  /** Reports how the print job ended, with the money of a paid attempt (the server records it once, however often this is retried). */
  async result(issuanceId: string, outcome: 'printed' | 'failed', detail?: string, payment?: PaymentReport): Promise<IssuanceStatus> {
    const body = { outcome, ...(detail !== undefined ? { detail: detail.slice(0, 500) } : {}), ...(payment ? { payment } : {}) };
    // A repeated report of the same outcome is answered as the first: safe to send again to another node.
    const call = { method: 'POST', path: `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}/result`, body, bearer: this.credential, idempotent: true } as const;
    return (await callJson(this.endpoint, call, issuanceStatusOnlySchema)).status;
  }

  /** Gives the issuance up; the receipt stays printable elsewhere. `payment`: the money put in before the resident gave up (paid back, or owed). */
  async abandon(issuanceId: string, payment?: PaymentReport): Promise<IssuanceStatus> {
    const path = `/api/v1/kiosk/issuances/${encodeURIComponent(issuanceId)}`;
    return (await callJson(this.endpoint, { method: 'DELETE', path, bearer: this.credential, ...(payment ? { body: { payment } } : {}) }, issuanceStatusOnlySchema)).status;
  }
}
