import { recordUpdateRequestSchema } from '@cert/common';
import express, { Router } from 'express';
import type { RecordService } from '../services/record-service.ts';
import { bearerToken, parseInput } from './http-errors.ts';

/** Largest live-update body: a batch of records, seal impressions included. */
export const RECORDS_BODY_LIMIT = '8mb';

/**
 * The live-update API of the municipality's resident-records system (随時連携): record changes
 * with their source versions, applied in one transaction. Authenticated by a credential the
 * admin CLI issues; like every endpoint, plain HTTP only on loopback (TLS otherwise).
 */
export function adminRoutes(records: RecordService): Router {
  const r = Router();
  const clients = new WeakMap<object, string>();
  r.post(
    '/api/v1/admin/records',
    // The credential is checked before a byte of the (up to 8 MB) body is read.
    async (req, _res, next) => {
      clients.set(req, await records.authenticate(bearerToken(req)));
      next();
    },
    express.json({ limit: RECORDS_BODY_LIMIT, strict: true, type: () => true }),
    async (req, res) => {
      res.json(await records.apply(parseInput(recordUpdateRequestSchema, req.body).changes, `records:${clients.get(req)}`));
    },
  );
  return r;
}
