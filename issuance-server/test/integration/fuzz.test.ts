import assert from 'node:assert/strict';
import { assertClientError, rawExchange, TestDevice, TestServer, type Applicant, type HttpResult } from './harness.ts';

/** Small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('integration: malformed input never gets a 5xx', () => {
  let ts: TestServer;
  let applicant: Applicant;
  before(async () => {
    ts = await TestServer.start();
    applicant = await ts.login('R0001');
  });
  after(async () => {
    await ts?.close();
  });

  async function expectClientError(res: Promise<HttpResult>, what: string): Promise<void> {
    assertClientError(await res, what);
  }

  it('garbage bodies on every JSON endpoint are 4xx with the error body', async () => {
    const kiosk = ts.kiosk(0).credential;
    const endpoints: { method: string; path: string; bearer?: string }[] = [
      { method: 'POST', path: '/api/v1/auth/challenge' },
      { method: 'POST', path: '/api/v1/auth/login' },
      { method: 'POST', path: '/api/v1/applications', bearer: applicant.token },
      { method: 'POST', path: '/api/v1/kiosk/issuances', bearer: kiosk },
      { method: 'POST', path: '/api/v1/kiosk/issuances/00000000-0000-0000-0000-000000000000/result', bearer: kiosk },
    ];
    const bodies: { body: string | Buffer; type: string }[] = [
      { body: '{', type: 'application/json' },
      { body: '[1,2', type: 'application/json' },
      { body: '{"a":1}', type: 'application/json' },
      { body: '{"__proto__":{"polluted":true}}', type: 'application/json' },
      { body: '{"constructor":{"prototype":{"polluted":true}}}', type: 'application/json' },
      { body: '['.repeat(30_000) + ']'.repeat(30_000), type: 'application/json' },
      { body: '{"receiptNumber":' + '9'.repeat(400) + '}', type: 'application/json' },
      { body: '{"certificateType":"juminhyo","copies":1e308}', type: 'application/json' },
      { body: '{"certificateType":"juminhyo","copies":-0}', type: 'application/json' },
      { body: '{"outcome":"printed","detail":' + JSON.stringify('x'.repeat(600)) + '}', type: 'application/json' },
      { body: '\u0000\u0001\u0002', type: 'application/json' },
      { body: Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), type: 'application/json' },
      { body: '{"a":1}', type: 'application/json; charset=latin1' },
      { body: '{"a":1}', type: 'multipart/form-data; boundary=x' },
      { body: 'x'.repeat(70_000), type: 'text/plain' },
    ];
    for (const e of endpoints) {
      for (const b of bodies) {
        await expectClientError(
          ts.http(e.method, e.path, { body: b.body, headers: { 'content-type': b.type }, ...(e.bearer ? { bearer: e.bearer } : {}) }),
          `${e.method} ${e.path} ${b.type} ${b.body.toString().slice(0, 40)}`,
        );
      }
    }
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'no prototype pollution');
  });

  it('randomly mutated login and application bodies are 4xx with the error body', async () => {
    const rand = prng(20260601);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const junk = (): unknown =>
      pick([null, true, 0, -1, 1.5, 1e21, '', 'x'.repeat(Math.floor(rand() * 3000)), [], {}, [1, 'a'], { nested: { deeper: [null] } }, 'QUJD', '😀'.repeat(10)]);
    const good = await ts.loginBody(ts.card('R0001'), new TestDevice());
    for (let i = 0; i < 30; i++) {
      const body: Record<string, unknown> = { ...good };
      const keys = Object.keys(body);
      const mutations = 1 + Math.floor(rand() * 3);
      for (let m = 0; m < mutations; m++) {
        const r = rand();
        if (r < 0.3) delete body[pick(keys)];
        else if (r < 0.8) body[pick(keys)] = junk();
        else body[`extra${m}`] = junk();
      }
      await expectClientError(ts.http('POST', '/api/v1/auth/login', { json: body }), `login #${i} ${JSON.stringify(body).slice(0, 120)}`);
    }
    for (let i = 0; i < 20; i++) {
      const body: Record<string, unknown> = { certificateType: 'juminhyo', options: {}, copies: 1 };
      const key = pick(['certificateType', 'options', 'copies', 'extra']);
      let value = key === 'options' ? pick([{ scope: junk() }, { [`opt${String(junk()).slice(0, 40)}`]: 'self' }, junk()]) : junk();
      if (key === 'options' && JSON.stringify(value) === '{}') value = [];
      body[key] = value;
      const res = await ts.http('POST', '/api/v1/applications', { json: body, bearer: applicant.token });
      assertClientError(res, `apply #${i} ${JSON.stringify(body).slice(0, 120)}`);
    }
  });

  it('odd paths, methods, query strings and headers are 4xx with the error body', async () => {
    const kiosk = ts.kiosk(0).credential;
    const cases: { method: string; path: string; headers?: Record<string, string>; bearer?: string }[] = [
      { method: 'GET', path: '/api/v1/applications/%E0%A4%A', bearer: applicant.token },
      { method: 'GET', path: '/api/v1/applications/%00', bearer: applicant.token },
      { method: 'GET', path: `/api/v1/applications/${'x'.repeat(5000)}`, bearer: applicant.token },
      { method: 'DELETE', path: '/api/v1/applications/..%2F..%2Fetc%2Fpasswd', bearer: applicant.token },
      { method: 'GET', path: '/api/v1/verify/%', },
      { method: 'GET', path: '/verify/%FF%FE' },
      { method: 'GET', path: '/api/v1/kiosk/issuances/x?waitMs=1e9', bearer: kiosk },
      { method: 'GET', path: '/api/v1/kiosk/issuances/x?waitMs=NaN', bearer: kiosk },
      { method: 'GET', path: '/api/v1/kiosk/issuances/x?waitMs=1&waitMs=2', bearer: kiosk },
      { method: 'GET', path: '/api/v1/kiosk/issuances/x?waitMs[a]=1', bearer: kiosk },
      { method: 'GET', path: '/api/v1/kiosk/issuances/x?since=nonsense', bearer: kiosk },
      { method: 'GET', path: '/api/v1/kiosk/issuances/%E0%A4%A/document', bearer: kiosk },
      { method: 'PATCH', path: '/api/v1/applications', bearer: applicant.token },
      { method: 'PUT', path: '/api/v1/kiosk/issuances', bearer: kiosk },
      { method: 'DELETE', path: '/api/v1/auth/challenge' },
      { method: 'POST', path: '/api/v1/health' },
      { method: 'GET', path: '/api/v1/applications', headers: { authorization: 'Bearer' } },
      { method: 'GET', path: '/api/v1/applications', headers: { authorization: `Bearer ${'a'.repeat(8000)}` } },
      { method: 'GET', path: '/api/v1/applications', headers: { authorization: 'Bearer a b' } },
      { method: 'GET', path: '/api/v1/applications', headers: { authorization: 'Basic dXNlcjpwYXNz' } },
      { method: 'GET', path: '/api/v1/applications', headers: { authorization: 'Bearer \u00e9\u00ff' } },
      { method: 'POST', path: '/api/v1/kiosk/issuances', headers: { authorization: 'Bearer kiosk-0000000000.x', 'content-type': 'application/json' } },
      { method: 'POST', path: '/api/v1/kiosk/issuances', headers: { authorization: `Bearer ${'.'.repeat(50)}` } },
      { method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } },
      { method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json', 'content-encoding': 'compress' } },
    ];
    for (const c of cases) {
      const body = c.method === 'GET' || c.method === 'DELETE' ? undefined : '{"x":1}';
      const res = await ts.http(c.method, c.path, { ...(body ? { body } : {}), headers: c.headers ?? {}, ...(c.bearer ? { bearer: c.bearer } : {}) });
      assertClientError(res, `${c.method} ${c.path.slice(0, 80)} ${JSON.stringify(c.headers ?? {}).slice(0, 80)}`);
    }
  });

  it('raw malformed HTTP, including bad upgrade requests, never crashes the server', async () => {
    const wsHeaders = 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    const requests = [
      // A request target no URL parser accepts, on the upgrade path (used to throw out of the 'upgrade' event).
      `GET http://[ HTTP/1.1\r\nHost: x\r\n${wsHeaders}\r\n`,
      `GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET /api/v1/health HTTP/1.1\r\nHost: x\r\n${wsHeaders}\r\n`,
      `GET /api/v1/applicant/socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
      `GET /api/v1/applicant/socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 99\r\nSec-WebSocket-Key: x\r\n\r\n`,
      'FOO / HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/9.9\r\n\r\n',
      'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
      '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', // a TLS ClientHello on the plain port
      'GET /api/v1/health HTTP/1.0\r\n\r\n',
    ];
    for (const r of requests) {
      const { status, raw } = await rawExchange(ts.port, r, 1500);
      assert.ok(status === null || (status >= 200 && status < 500), `${JSON.stringify(r.slice(0, 60))} → ${status} ${raw.slice(0, 200)}`);
    }
    // Still alive and answering.
    const health = await ts.http('GET', '/api/v1/health');
    assert.equal(health.status, 200);
  });

  it('protocol-level refusals answer in the contract shape: Expect, no Host, bad WebSocket handshakes', async () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const socket = '/api/v1/applicant/socket';
    const cases: { name: string; request: string; status: number; code: string; header?: RegExp }[] = [
      { name: 'Expect: bogus', request: 'POST /api/v1/auth/challenge HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 0\r\n\r\n', status: 417, code: 'invalid_request' },
      { name: 'no Host (HTTP/1.1)', request: 'GET /api/v1/health HTTP/1.1\r\nConnection: close\r\n\r\n', status: 400, code: 'invalid_request' },
      {
        name: 'upgrade without Sec-WebSocket-Key',
        request: `GET ${socket} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        status: 400,
        code: 'invalid_request',
      },
      {
        name: 'upgrade as POST',
        request: `POST ${socket} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\nContent-Length: 0\r\n\r\n`,
        status: 405,
        code: 'method_not_allowed',
        header: /^Allow: GET\r$/im,
      },
      {
        name: 'bad Sec-WebSocket-Version',
        request: `GET ${socket} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
        status: 400,
        code: 'invalid_request',
        header: /^Sec-WebSocket-Version: 13\r$/im,
      },
      { name: 'Upgrade: h2c', request: `GET ${socket} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`, status: 400, code: 'invalid_request' },
      { name: 'Upgrade: h2c elsewhere', request: `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`, status: 404, code: 'not_found' },
    ];
    for (const c of cases) {
      const { status, raw } = await rawExchange(ts.port, c.request, 3000);
      const ctx = `${c.name} → ${raw.slice(0, 300)}`;
      assert.equal(status, c.status, ctx);
      const [head, body] = raw.split('\r\n\r\n');
      assert.match(head!, /^Content-Type: application\/json/im, ctx);
      if (c.header) assert.match(head!, c.header, ctx);
      const json = JSON.parse(body!) as { error: { code: string; message: string } };
      assert.deepEqual(Object.keys(json), ['error'], ctx);
      assert.equal(json.error.code, c.code, ctx);
      assert.ok(json.error.message.length > 0, ctx);
    }
    assert.equal((await ts.http('GET', '/api/v1/health')).status, 200);
  });
});
