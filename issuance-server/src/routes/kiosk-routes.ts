import { createIssuanceRequestSchema, issuanceResultRequestSchema, issuanceStatusQuerySchema } from '@cert/common';
import { Router, type Request } from 'express';
import type { IssuanceService } from '../services/issuance-service.ts';
import { authenticateKiosk } from '../services/kiosk-auth.ts';
import { ServiceError } from '../services/service-error.ts';
import type { KioskStore } from '../store/kiosk-store.ts';
import { bearerToken, parseInput } from './http-errors.ts';

/** The kiosk API: claim a receipt, wait, fetch the document, report, abandon. */
export function kioskRoutes(kiosks: KioskStore, issuance: IssuanceService): Router {
  const r = Router();
  const kioskOf = (req: Request) => authenticateKiosk(kiosks, bearerToken(req));
  r.post('/api/v1/kiosk/issuances', (req, res) => {
    const kiosk = kioskOf(req);
    const body = parseInput(createIssuanceRequestSchema, req.body);
    res.status(201).json(issuance.start(kiosk, body.receiptNumber));
  });
  r.get('/api/v1/kiosk/issuances/:id', async (req, res) => {
    const kiosk = kioskOf(req);
    const q = parseInput(issuanceStatusQuerySchema, req.query);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const status = await issuance.status(kiosk, req.params.id, q.waitMs, q.since, gone.signal);
    res.json({ issuanceId: req.params.id, status });
  });
  r.head('/api/v1/kiosk/issuances/:id/document', () => {
    // Express would route HEAD to the GET handler, which hands the document out and moves the issuance.
    throw new ServiceError('method_not_allowed', 'use GET to fetch the document');
  });
  r.get('/api/v1/kiosk/issuances/:id/document', async (req, res) => {
    const pdf = await issuance.document(kioskOf(req), req.params.id);
    res.type('application/pdf').set('Content-Disposition', 'inline; filename="certificate.pdf"').send(pdf);
  });
  r.post('/api/v1/kiosk/issuances/:id/result', (req, res) => {
    const kiosk = kioskOf(req);
    res.json({ status: issuance.result(kiosk, req.params.id, parseInput(issuanceResultRequestSchema, req.body)) });
  });
  r.delete('/api/v1/kiosk/issuances/:id', (req, res) => {
    res.json({ status: issuance.abandon(kioskOf(req), req.params.id) });
  });
  return r;
}
