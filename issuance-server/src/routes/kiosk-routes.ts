import { createIssuanceRequestSchema, issuanceAbandonRequestSchema, issuanceResultRequestSchema, issuanceStatusQuerySchema } from '@cert/common';
import { Router, type Request } from 'express';
import type { IssuanceService } from '../services/issuance-service.ts';
import { authenticateKiosk } from '../services/kiosk-auth.ts';
import { ServiceError } from '../services/service-error.ts';
import { bearerToken, parseInput } from './http-errors.ts';

/** The kiosk API: claim a receipt, wait, fetch the document, report, abandon. */
export function kioskRoutes(issuance: IssuanceService, kioskOf: (credential: string | undefined) => ReturnType<typeof authenticateKiosk>): Router {
  const r = Router();
  const kiosk = (req: Request) => kioskOf(bearerToken(req));
  r.post('/api/v1/kiosk/issuances', async (req, res) => {
    const k = await kiosk(req);
    const body = parseInput(createIssuanceRequestSchema, req.body);
    res.status(201).json(await issuance.start(k, body.receiptNumber));
  });
  r.get('/api/v1/kiosk/issuances/:id', async (req, res) => {
    const k = await kiosk(req);
    const q = parseInput(issuanceStatusQuerySchema, req.query);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const view = await issuance.status(k, req.params.id, q.waitMs, q.since, gone.signal);
    res.json({ issuanceId: req.params.id, ...view });
  });
  r.head('/api/v1/kiosk/issuances/:id/document', () => {
    // Express would route HEAD to the GET handler, which hands the document out and moves the issuance.
    throw new ServiceError('method_not_allowed', 'use GET to fetch the document');
  });
  r.get('/api/v1/kiosk/issuances/:id/document', async (req, res) => {
    const pdf = await issuance.document(await kiosk(req), req.params.id);
    res.type('application/pdf').set('Content-Disposition', 'inline; filename="certificate.pdf"').send(pdf);
  });
  r.post('/api/v1/kiosk/issuances/:id/result', async (req, res) => {
    const k = await kiosk(req);
    res.json({ status: await issuance.result(k, req.params.id, parseInput(issuanceResultRequestSchema, req.body)) });
  });
  r.delete('/api/v1/kiosk/issuances/:id', async (req, res) => {
    const k = await kiosk(req);
    // The body is optional (our addition): the money of a resident who gave up after paying in.
    const body = parseInput(issuanceAbandonRequestSchema, req.body ?? {});
    res.json({ status: await issuance.abandon(k, req.params.id, body.payment) });
  });
  return r;
}
