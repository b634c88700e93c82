import type { VerifyResponse } from '@cert/common';
import { Router } from 'express';
import { SERVER_VERSION } from '../config.ts';
import { catalogFor, ISSUABLE_TYPES } from '../services/catalog.ts';
import { ServiceError } from '../services/service-error.ts';
import type { ApplicationStore } from '../store/application-store.ts';
import type { ResidentStore } from '../store/resident-store.ts';
import { verificationPage } from './verification-page.ts';

/** Looks up a verification code; only documents printed (or still printing) are valid. */
export function verifyDocument(store: ApplicationStore, residents: ResidentStore, code: string): VerifyResponse | null {
  const doc = store.issuedDocument(code.trim().toUpperCase());
  const municipality = residents.municipality();
  if (!doc || !municipality || (doc.attemptStatus !== 'printed' && doc.attemptStatus !== 'delivered')) return null;
  return { valid: true, certificateType: doc.certificateType, issuedAt: new Date(doc.issuedAt).toISOString(), municipality, documentSha256: doc.documentSha256 };
}

/** Health, catalog and document verification (no authentication). */
export function publicRoutes(residents: ResidentStore, store: ApplicationStore): Router {
  const r = Router();
  r.get('/api/v1/health', (_req, res) => {
    res.json({ status: 'ok', version: SERVER_VERSION });
  });
  r.get('/api/v1/catalog', (_req, res) => {
    const municipality = residents.municipality();
    if (!municipality) throw new ServiceError('service_unavailable', 'the server has not been initialised with a municipality');
    res.json(catalogFor(municipality));
  });
  r.get('/api/v1/verify/:code', (req, res) => {
    const result = verifyDocument(store, residents, req.params.code);
    if (!result) throw new ServiceError('not_found', 'no valid certificate has this verification code');
    res.json(result);
  });
  r.get('/verify/:code', (req, res) => {
    const result = verifyDocument(store, residents, req.params.code);
    const typeName = result ? ISSUABLE_TYPES.find((t) => t.type === result.certificateType)?.name : undefined;
    res
      .status(result ? 200 : 404)
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .type('html')
      .send(verificationPage(req.params.code, result, typeName));
  });
  return r;
}
