import type { IssuanceStatus } from '@cert/common';
import type { ServerEndpoint } from '@cert/common/node';
import { ApplicantApi, ApplicantSocketClient, type AuthenticationToken, type DeviceKey } from 'desktop-applicant';
import { KioskApi } from 'kiosk-shell';

/** What one scripted flow did. */
export interface FlowResult {
  receiptNumber: string;
  displayName: string;
  lifecycle: string[];
  pdf: Buffer;
  timings: Record<'login' | 'apply' | 'claim' | 'approval' | 'document' | 'result', number>;
}

/**
 * One resident's whole flow through the wire contract: card login, application, kiosk claim,
 * approval over the applicant socket (signed by the device key), document, result `printed`.
 */
export async function runScriptedFlow(
  endpoint: ServerEndpoint,
  token: AuthenticationToken,
  device: DeviceKey,
  kioskCredential: string,
  onStep: (step: string, detail?: string) => void = () => {},
): Promise<FlowResult> {
  const timings = {} as FlowResult['timings'];
  let t = performance.now();
  const lap = (k: keyof FlowResult['timings']) => {
    const now = performance.now();
    timings[k] = now - t;
    t = now;
  };
  const applicant = new ApplicantApi(endpoint);
  const login = await applicant.login(token, device);
  lap('login');
  onStep('applicant logged in with the JPKI authentication certificate', login.resident.displayName);
  const application = await applicant.apply({ certificateType: 'juminhyo', options: { scope: 'household' }, copies: 1 });
  lap('apply');
  onStep('application submitted', `receipt ${application.receiptNumber}, fee ¥${application.fee}, expires ${application.expiresAt}`);

  const lifecycle: string[] = [`application:${application.status}`];
  const socket = new ApplicantSocketClient(endpoint, device);
  socket.on('application-status', (s) => lifecycle.push(`application:${s.status}`));
  socket.on('confirmation-request', (r) => {
    onStep('print confirmation request on the applicant device', `${r.kiosk.name} (${r.kiosk.location}), ${r.copies} copy, ¥${r.fee}`);
    socket.respond(r.requestId, true);
    onStep('applicant approved (signed with the device key)');
  });
  socket.start();
  try {
    await socket.whenAuthenticated();
    t = performance.now();
    const kiosk = new KioskApi(endpoint, kioskCredential);
    const issuance = await kiosk.start(application.receiptNumber);
    lap('claim');
    lifecycle.push(`issuance:${issuance.status}`);
    onStep('kiosk entered the receipt number', `issuance ${issuance.issuanceId}`);
    let status: IssuanceStatus = issuance.status;
    while (status === 'confirmation_pending') {
      status = await kiosk.status(issuance.issuanceId, 25_000, status);
      lifecycle.push(`issuance:${status}`);
    }
    lap('approval');
    if (status !== 'approved') throw new Error(`issuance ended ${status}`);
    const pdf = await kiosk.document(issuance.issuanceId);
    lap('document');
    lifecycle.push('issuance:delivered');
    onStep('kiosk received the certificate', `${pdf.length} bytes`);
    lifecycle.push(`issuance:${await kiosk.result(issuance.issuanceId, 'printed')}`);
    lap('result');
    return { receiptNumber: application.receiptNumber, displayName: login.resident.displayName, lifecycle, pdf, timings };
  } finally {
    socket.stop();
  }
}
