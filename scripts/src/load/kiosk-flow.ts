import type { Application, CreateApplicationRequest, IssuanceStatus } from '@cert/common';
import type { KioskApi } from 'kiosk-shell';
import type { ResidentAgent } from './resident-agent.ts';

/** The steps of a complete flow that the load benchmark reports. */
export const FLOW_STEPS = ['apply', 'claim', 'approval', 'document', 'result'] as const;

/** Milliseconds per step; `approval` runs from the claim's answer to the kiosk seeing `approved`, `push` from sending the claim to the request arriving on the socket. */
export type FlowTimings = Record<(typeof FLOW_STEPS)[number] | 'push' | 'total', number>;

/** What one complete flow produced. */
export interface CompletedFlow {
  application: Application;
  issuanceId: string;
  pdf: Buffer;
  timings: FlowTimings;
}

/** Long-polls until the issuance leaves `confirmation_pending`; returns the status it moved to. */
export async function awaitDecision(kiosk: KioskApi, issuanceId: string, waitMs = 25_000): Promise<IssuanceStatus> {
  let status: IssuanceStatus = 'confirmation_pending';
  while (status === 'confirmation_pending') status = await kiosk.status(issuanceId, waitMs, status);
  return status;
}

/**
 * One complete flow through the wire: the agent applies, the kiosk types the receipt, the agent
 * approves over its socket, the kiosk sees `approved`, fetches the PDF and reports it printed.
 */
export async function completeFlow(agent: ResidentAgent, kiosk: KioskApi, order: CreateApplicationRequest): Promise<CompletedFlow> {
  const start = performance.now();
  const application = await agent.apply(order);
  const applied = performance.now();
  const arrival = agent.expectRequest(application.applicationId);
  const issuance = await kiosk.start(application.receiptNumber);
  const claimed = performance.now();
  const decision = await awaitDecision(kiosk, issuance.issuanceId);
  if (decision !== 'approved') throw new Error(`issuance ${issuance.issuanceId} ended ${decision}`);
  const approved = performance.now();
  const pdf = await kiosk.document(issuance.issuanceId);
  const delivered = performance.now();
  const outcome = await kiosk.result(issuance.issuanceId, 'printed');
  if (outcome !== 'printed') throw new Error(`issuance ${issuance.issuanceId} reported printed but is ${outcome}`);
  const done = performance.now();
  // The push can only have arrived before the approval was seen; it is resolved by now.
  const pushAt = (await arrival).at;
  return {
    application,
    issuanceId: issuance.issuanceId,
    pdf,
    timings: {
      apply: applied - start,
      claim: claimed - applied,
      approval: approved - claimed,
      document: delivered - approved,
      result: done - delivered,
      push: pushAt - applied,
      total: done - start,
    },
  };
}
