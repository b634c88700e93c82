import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { z } from 'zod';
import { errorBodySchema } from '../contract/errors.ts';
import { serverNodes, type ServiceUrls } from './server-nodes.ts';

/** Where a server lives (one node, or several: see server-nodes.ts) and how to trust it. */
export interface ServerEndpoint extends ServiceUrls {
  /** Extra CA certificate(s) (PEM) for a municipal server with a private CA. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

/** The server answered with a contract error (`{"error": {"code", "message"}}`). */
export class ContractError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

/** The server could not be reached or answered something that is not the contract. */
export class NetworkError extends Error {
  constructor(
    message: string,
    /** False when the request certainly never reached a server (no connection): any call may then go to another node. */
    readonly maybeReceived = true,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

/** One HTTP exchange. */
export interface HttpCall {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  bearer?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Whether sending the call twice does no more than sending it once (default: GET and DELETE
   * yes, POST no). Only such calls are sent again to another node after an exchange broke off.
   */
  idempotent?: boolean;
}

// Connections are kept open between calls: a kiosk makes several calls per receipt, and a new
// TLS handshake for each would cost both sides more than the calls themselves. Node closes an
// idle connection before the server's announced Keep-Alive timeout, so none is reused half-closed.
const plainAgent = new HttpAgent({ keepAlive: true });
const tlsAgents = new Map<string | Buffer | undefined, HttpsAgent>();

function agentFor(endpoint: ServerEndpoint, tls: boolean): HttpAgent | HttpsAgent {
  if (!tls) return plainAgent;
  let agent = tlsAgents.get(endpoint.ca);
  if (!agent) tlsAgents.set(endpoint.ca, (agent = new HttpsAgent({ keepAlive: true, ...(endpoint.ca ? { ca: endpoint.ca } : {}) })));
  return agent;
}

/** What one exchange returned. */
export interface HttpAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/**
 * Sends a request and returns status, headers and raw body; contract errors become ContractError.
 * With several nodes (server-nodes.ts) a node that does not answer, or answers 503, gets a rest,
 * and the call goes to the next one at once when that is safe: always when the request never
 * left (no connection), else only when the call is idempotent. Otherwise the error goes to the
 * caller, whose next call reaches the next node.
 */
export async function httpCall(endpoint: ServerEndpoint, call: HttpCall): Promise<HttpAnswer> {
  const nodes = serverNodes(endpoint);
  const idempotent = call.idempotent ?? call.method !== 'POST';
  for (let tried = 1; ; tried++) {
    const node = nodes.pick();
    try {
      const answer = await exchange(node, endpoint, call);
      nodes.answered(node);
      return answer;
    } catch (e) {
      const down = e instanceof NetworkError || (e instanceof ContractError && e.code === 'service_unavailable');
      if (call.signal?.aborted) throw e;
      if (!down) {
        // A refusal is an answer: the node is alive.
        nodes.answered(node);
        throw e;
      }
      nodes.failed(node);
      const safe = idempotent || (e instanceof NetworkError && !e.maybeReceived);
      if (!safe || tried >= nodes.urls.length) throw e;
    }
  }
}

/**
 * One exchange with one node. A kept-alive connection the server closed as the request went out
 * (its idle timer and our send crossed) resets before any answer: the server never read that
 * request, so it is sent once more on a new connection, as Node's documentation advises.
 */
function exchange(baseUrl: string, endpoint: ServerEndpoint, call: HttpCall, staleRetry = true): Promise<HttpAnswer> {
  const url = new URL(call.path, baseUrl);
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
  const headers: Record<string, string> = { accept: 'application/json, application/pdf' };
  if (payload) {
    headers['content-type'] = 'application/json';
    // Node sends a DELETE body neither chunked nor sized unless told its length.
    headers['content-length'] = String(payload.length);
  }
  if (call.bearer) headers['authorization'] = `Bearer ${call.bearer}`;
  const tls = url.protocol === 'https:';
  const send = tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = send(
      url,
      { method: call.method, headers, agent: agentFor(endpoint, tls), timeout: call.timeoutMs ?? endpoint.timeoutMs ?? 15_000, ...(endpoint.ca ? { ca: endpoint.ca } : {}), ...(call.signal ? { signal: call.signal } : {}) },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(new NetworkError(`connection to ${url.origin} broke: ${e.message}`)));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          const contentType = String(res.headers['content-type'] ?? '');
          if (status < 400) return resolve({ status, contentType, body });
          let parsed: z.infer<typeof errorBodySchema> | null;
          try {
            const r = errorBodySchema.safeParse(JSON.parse(body.toString('utf8')));
            parsed = r.success ? r.data : null;
          } catch {
            parsed = null;
          }
          if (!parsed) return reject(new NetworkError(`${url.origin} answered HTTP ${status} without a contract error body`));
          const retry = Number(res.headers['retry-after']);
          reject(new ContractError(status, parsed.error.code, parsed.error.message, Number.isFinite(retry) ? retry : undefined));
        });
      },
    );
    // A request is sent only over a connected socket; one kept alive from an earlier call is connected.
    let connected = false;
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (staleRetry && req.reusedSocket && !answered && e.code === 'ECONNRESET' && !call.signal?.aborted) {
        resolve(exchange(baseUrl, endpoint, call, false));
        return;
      }
      reject(call.signal?.aborted ? e : new NetworkError(`cannot reach ${url.origin}: ${e.message}`, connected));
    });
    req.end(payload);
  });
}

/** Sends a request and validates the JSON answer against a contract schema. */
export async function callJson<S extends z.ZodType>(endpoint: ServerEndpoint, call: HttpCall, schema: S): Promise<z.infer<S>> {
  const res = await httpCall(endpoint, call);
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new NetworkError(`${call.path} answered something that is not JSON`);
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new NetworkError(`${call.path} answered outside the contract: ${r.error.issues[0]?.message ?? ''}`);
  return r.data;
}
