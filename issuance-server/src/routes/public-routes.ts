import type { VerifyResponse } from '@cert/common';
import { Router } from 'express';
import { SERVER_VERSION } from '../config.ts';
import { TYPE_DEFINITIONS, type CatalogService } from '../services/catalog.ts';
import type { PublicService } from '../services/public-service.ts';
import { ServiceError } from '../services/service-error.ts';
import { verificationPage } from './verification-page.ts';

/** Health, catalog and document verification (no authentication). */
export function publicRoutes(pub: PublicService, catalog: CatalogService, clock: () => number): Router {
  const r = Router();
  r.get('/api/v1/health', async (_req, res) => {
    await pub.checkDatabase();
    res.json({ status: 'ok', version: SERVER_VERSION });
  });
  r.get('/api/v1/catalog', async (_req, res) => {
    const response = await catalog.response(clock());
    if (!response) throw new ServiceError('service_unavailable', 'the server has not been initialised with a municipality');
    res.json(response);
  });
  r.get('/api/v1/verify/:code', async (req, res) => {
    const result: VerifyResponse | null = await pub.verify(req.params.code);
    if (!result) throw new ServiceError('not_found', 'no valid certificate has this verification code');
    res.json(result);
  });
  r.get('/verify/:code', async (req, res) => {
    const result = await pub.verify(req.params.code);
    const typeName = result ? TYPE_DEFINITIONS[result.certificateType].name : undefined;
    res
      .status(result ? 200 : 404)
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .type('html')
      .send(verificationPage(req.params.code, result, typeName));
  });
  return r;
}
