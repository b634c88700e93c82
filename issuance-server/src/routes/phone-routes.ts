import { registrationOptionsRequestSchema, registrationRequestSchema, renamePhoneRequestSchema } from '@cert/common';
import { Router } from 'express';
import type { AuthService } from '../services/auth-service.ts';
import type { PhoneService } from '../services/phone-service.ts';
import { clientAddress, emptyBodySchema } from './applicant-routes.ts';
import { bearerToken, parseInput } from './http-errors.ts';

/** Pairing and managing phones from the PC's session; registration from the phone with the pairing secret. */
export function phoneRoutes(auth: AuthService, phones: PhoneService): Router {
  const r = Router();
  const session = (req: Parameters<typeof bearerToken>[0]) => auth.session(bearerToken(req));
  r.post('/api/v1/phones/pairings', async (req, res) => {
    const s = await session(req);
    parseInput(emptyBodySchema, req.body);
    res.status(201).json(await phones.createPairing(s));
  });
  r.get('/api/v1/phones/pairings/:id', async (req, res) => {
    res.json(await phones.pairingState(await session(req), req.params.id));
  });
  r.post('/api/v1/phones/pairings/:id/confirm', async (req, res) => {
    const s = await session(req);
    parseInput(emptyBodySchema, req.body);
    res.json(await phones.confirmPairing(s, req.params.id));
  });
  r.delete('/api/v1/phones/pairings/:id', async (req, res) => {
    res.json(await phones.cancelPairing(await session(req), req.params.id));
  });
  r.get('/api/v1/phones', async (req, res) => {
    res.json({ phones: await phones.list(await session(req)) });
  });
  r.patch('/api/v1/phones/:id', async (req, res) => {
    const s = await session(req);
    await phones.rename(s, req.params.id, parseInput(renamePhoneRequestSchema, req.body).label);
    res.json({ status: 'renamed' });
  });
  r.delete('/api/v1/phones/:id', async (req, res) => {
    await phones.remove(await session(req), req.params.id);
    res.json({ status: 'removed' });
  });
  r.post('/api/v1/phone/registration/options', async (req, res) => {
    res.json(await phones.registrationOptions(parseInput(registrationOptionsRequestSchema, req.body), clientAddress(req)));
  });
  r.post('/api/v1/phone/registration', async (req, res) => {
    res.status(201).json(await phones.register(parseInput(registrationRequestSchema, req.body), clientAddress(req)));
  });
  return r;
}
