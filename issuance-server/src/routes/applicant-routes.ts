import { createApplicationRequestSchema, loginRequestSchema } from '@cert/common';
import { Router, type Request } from 'express';
import { z } from 'zod';
import type { ApplicationService } from '../services/application-service.ts';
import type { AuthService } from '../services/auth-service.ts';
import { bearerToken, parseInput } from './http-errors.ts';

/** A POST without a body (or with `{}`). */
export const emptyBodySchema = z.strictObject({}).optional();

/** The client's address as this server sees it (no proxy headers are trusted). */
export function clientAddress(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** Login and the resident's applications. */
export function applicantRoutes(auth: AuthService, applications: ApplicationService): Router {
  const r = Router();
  r.post('/api/v1/auth/challenge', async (req, res) => {
    parseInput(emptyBodySchema, req.body);
    res.status(201).json(await auth.challenge(clientAddress(req)));
  });
  r.post('/api/v1/auth/login', async (req, res) => {
    res.json(await auth.login(parseInput(loginRequestSchema, req.body), clientAddress(req)));
  });
  r.post('/api/v1/applications', async (req, res) => {
    const session = await auth.session(bearerToken(req));
    res.status(201).json(await applications.create(session, parseInput(createApplicationRequestSchema, req.body)));
  });
  r.get('/api/v1/applicant/subjects', async (req, res) => {
    res.json(await applications.subjects(await auth.session(bearerToken(req))));
  });
  r.get('/api/v1/applications', async (req, res) => {
    res.json({ applications: await applications.list(await auth.session(bearerToken(req))) });
  });
  r.get('/api/v1/applications/:id', async (req, res) => {
    res.json(await applications.get(await auth.session(bearerToken(req)), req.params.id));
  });
  r.delete('/api/v1/applications/:id', async (req, res) => {
    res.json(await applications.cancel(await auth.session(bearerToken(req)), req.params.id));
  });
  return r;
}
