import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '@cert/common';
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { ServiceError, storeFailure } from '../services/service-error.ts';

/** Validates input against a contract schema; failures become 400 `invalid_request`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const detail = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
      .join('; ');
    throw new ServiceError('invalid_request', `invalid request: ${detail}`);
  }
  return r.data;
}

/** The bearer token of a request, if any. */
export function bearerToken(req: Request): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  return m?.[1];
}

function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

/** A complete raw HTTP/1.1 error response, for sockets Express never sees (bad requests, upgrades). */
export function rawErrorResponse(code: ErrorCode, message: string, headers: Record<string, string> = {}, status: number = ERROR_STATUS[code]): string {
  const body = JSON.stringify(errorBody(code, message));
  const reason = STATUS_CODES[status] ?? 'Error';
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Cache-Control: no-store\r\nConnection: close\r\n\r\n${body}`;
}

/** Sends a contract error on a plain Node response (for events Express never sees, like a refused `Expect`). */
export function sendRawError(res: ServerResponse, code: ErrorCode, message: string, status: number = ERROR_STATUS[code]): void {
  const body = JSON.stringify(errorBody(code, message));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', Connection: 'close' });
  res.end(body);
}

/** Refuses a request without a Host header in the contract's shape (Node would answer an empty 400). */
export const requireHost: RequestHandler = (req, res, next) => {
  if (!req.headers.host) {
    res.status(400).json(errorBody('invalid_request', 'the Host header is required'));
    return;
  }
  next();
};

/** 404 for every path no route claimed. */
export const notFoundHandler: RequestHandler = (_req, res) => {
  res.status(404).json(errorBody('not_found', 'no such endpoint'));
};

/** One error handler: contract codes for known failures, never a stack trace to the client. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    let code: ErrorCode = 'internal_error';
    let message = 'internal error';
    const refused = storeFailure(err);
    if (refused) err = refused;
    if (err instanceof ServiceError) {
      code = err.code;
      message = err.message;
      res.set(err.headers);
    } else if (typeof err === 'object' && err !== null && 'type' in err) {
      // body-parser failures carry a `type`; they are the client's mistakes, never ours.
      const type = String((err as { type: unknown }).type);
      if (type === 'entity.too.large') [code, message] = ['payload_too_large', 'request body is too large'];
      else if (type === 'charset.unsupported' || type === 'encoding.unsupported') [code, message] = ['unsupported_media_type', 'request body must be UTF-8 JSON'];
      else [code, message] = ['invalid_request', 'request body is not valid JSON'];
    } else if (typeof err === 'object' && err !== null && 'status' in err && Number((err as { status: unknown }).status) < 500) {
      [code, message] = ['invalid_request', 'malformed request'];
    }
    if (code === 'internal_error') log.error({ err, path: req.path }, 'unhandled error');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(ERROR_STATUS[code]).json(errorBody(code, message));
  };
}
