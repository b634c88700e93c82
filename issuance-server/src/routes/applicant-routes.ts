import { createApplicationRequestSchema, loginRequestSchema } from '@cert/common';
import { Router } from 'express';
import { z } from 'zod';
import type { ApplicationService } from '../services/application-service.ts';
import type { AuthService } from '../services/auth-service.ts';
import { bearerToken, parseInput } from './http-errors.ts';

const emptyBodySchema = z.strictObject({}).optional();

/** Login and the resident's applications. */
export function applicantRoutes(auth: AuthService, applications: ApplicationService): Router {
  const r = Router();
  r.post('/api/v1/auth/challenge', (req, res) => {
    parseInput(emptyBodySchema, req.body);
    res.status(201).json(auth.challenge());
  });
  r.post('/api/v1/auth/login', async (req, res) => {
    res.json(await auth.login(parseInput(loginRequestSchema, req.body)));
  });
  r.post('/api/v1/applications', (req, res) => {
    const session = auth.session(bearerToken(req));
    res.status(201).json(applications.create(session, parseInput(createApplicationRequestSchema, req.body)));
  });
  r.get('/api/v1/applications', (req, res) => {
    res.json({ applications: applications.list(auth.session(bearerToken(req))) });
  });
  r.get('/api/v1/applications/:id', (req, res) => {
    res.json(applications.get(auth.session(bearerToken(req)), req.params.id));
  });
  r.delete('/api/v1/applications/:id', (req, res) => {
    res.json(applications.cancel(auth.session(bearerToken(req)), req.params.id));
  });
  return r;
}
