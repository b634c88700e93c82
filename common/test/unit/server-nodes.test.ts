import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { callJson, ContractError, NetworkError } from '../../src/node/http-json-client.ts';
import { FIRST_REST_MS, MAX_REST_MS, ServerNodes } from '../../src/node/server-nodes.ts';

const A = 'http://a.invalid';
const B = 'http://b.invalid';
const C = 'http://c.invalid';
// Privileged ports no test machine serves: connections are refused at once.
const DEAD = ['http://127.0.0.1:1', 'http://127.0.0.1:2'] as const;

describe('server nodes: failover order and back-off (common/src/node/server-nodes.ts)', () => {
  let now = 0;
  const nodes = () => new ServerNodes({ baseUrl: A, alternateUrls: [B, C] }, () => now);
  beforeEach(() => (now = 1_000_000));

  it('starts on the first URL and stays on the node that answered last', () => {
    const n = nodes();
    assert.equal(n.pick(), A);
    n.answered(C);
    assert.equal(n.pick(), C);
  });

  it('moves to the next node in the configured order when one fails, wrapping around', () => {
    const n = nodes();
    n.failed(A);
    assert.equal(n.pick(), B);
    n.failed(B);
    assert.equal(n.pick(), C);
    n.answered(C);
    n.failed(C);
    // A and B still rest: the one whose rest ends first is tried.
    assert.equal(n.pick(), A);
  });

  it('a failed node rests 1 s first; the next node is used meanwhile and it is tried again after', () => {
    const n = nodes();
    n.failed(A);
    now += FIRST_REST_MS - 1;
    n.answered(B);
    n.failed(B);
    assert.equal(n.pick(), C, 'A still rests');
    now += 1;
    n.failed(C);
    assert.equal(n.pick(), A, 'A rested its second and is tried again');
  });

  // With every node resting, the one whose rest ends first is picked: that shows how long each rests.
  it('the rest doubles with each failure in a row', () => {
    const n = new ServerNodes({ baseUrl: A, alternateUrls: [B] }, () => now);
    const t = now;
    n.failed(A);
    n.failed(A);
    now = t + 500;
    n.failed(B);
    now = t + 1400;
    assert.equal(n.pick(), B, "A's second failure in a row makes it rest 2 s (B's 1 s rest ends first)");
  });

  it('the rest is at most 30 s, and an answer starts it again at 1 s', () => {
    const n = new ServerNodes({ baseUrl: A, alternateUrls: [B] }, () => now);
    const t = now;
    for (let i = 0; i < 10; i++) n.failed(A);
    now = t + 5000;
    for (let i = 0; i < 10; i++) n.failed(B);
    now = t + MAX_REST_MS - 1;
    assert.equal(n.pick(), A, "A's rest (capped at 30 s) ends before B's");
    n.failed(B);
    now += 1;
    n.answered(A);
    n.failed(A);
    now += FIRST_REST_MS;
    assert.equal(n.pick(), A, 'after an answer the next rest is 1 s again');
  });
});

describe('httpCall across several nodes', () => {
  const servers: Server[] = [];
  const hits: string[] = [];
  /** A node that answers `status` with `body`, recording `name` on each request. */
  const node = async (name: string, status: number, body: unknown): Promise<string> => {
    const s = createServer((req, res) => {
      hits.push(`${name} ${req.method}`);
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '1' } : {}) });
      res.end(JSON.stringify(body));
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };
  const ok = z.object({ ok: z.literal(true) });
  beforeEach(() => (hits.length = 0));
  after(() => servers.forEach((s) => s.close()));

  it('a node nobody listens on is skipped, for any call (the request never left)', async () => {
    const live = await node('live', 200, { ok: true });
    assert.deepEqual(await callJson({ baseUrl: DEAD[0], alternateUrls: [live] }, { method: 'POST', path: '/x', body: {} }, ok), { ok: true });
    assert.deepEqual(hits, ['live POST']);
  });

  it('a 503 moves a GET to the next node at once, but a POST goes back to its caller (it may have been done)', async () => {
    const busy = await node('busy', 503, { error: { code: 'service_unavailable', message: 'busy' } });
    const live = await node('live', 200, { ok: true });
    assert.deepEqual(await callJson({ baseUrl: busy, alternateUrls: [live] }, { method: 'GET', path: '/x' }, ok), { ok: true });
    assert.deepEqual(hits, ['busy GET', 'live GET']);
    hits.length = 0;
    const endpoint = { baseUrl: busy, alternateUrls: [live] };
    await assert.rejects(callJson(endpoint, { method: 'POST', path: '/x', body: {} }, ok), (e) => e instanceof ContractError && e.code === 'service_unavailable');
    // The busy node rests: the caller's retry goes to the next one.
    assert.deepEqual(await callJson(endpoint, { method: 'POST', path: '/x', body: {} }, ok), { ok: true });
    assert.deepEqual(hits, ['busy POST', 'live POST']);
  });

  it('a refusal is an answer: no other node is asked', async () => {
    const refusing = await node('refusing', 404, { error: { code: 'not_found', message: 'no' } });
    const live = await node('live', 200, { ok: true });
    await assert.rejects(callJson({ baseUrl: refusing, alternateUrls: [live] }, { method: 'GET', path: '/x' }, ok), (e) => e instanceof ContractError && e.status === 404);
    assert.deepEqual(hits, ['refusing GET']);
  });

  it('when every node is down the caller gets the network error', async () => {
    await assert.rejects(callJson({ baseUrl: DEAD[0], alternateUrls: [DEAD[1]] }, { method: 'GET', path: '/x' }, ok), NetworkError);
  });
});
