import assert from 'node:assert/strict';
import { CERTIFICATE_TYPES, catalogResponseSchema, healthResponseSchema } from '@cert/common';
import { DEMO_MUNICIPALITY } from '@cert/scripts/demo';
import { assertError, TestServer } from './harness.ts';

describe('integration: public endpoints', () => {
  let ts: TestServer;
  before(async () => {
    ts = await TestServer.start();
  });
  after(async () => {
    await ts?.close();
  });

  it('GET /api/v1/health answers {status: ok, version} with no-store caching', async () => {
    const res = await ts.http('GET', '/api/v1/health');
    assert.equal(res.status, 200);
    assert.match(res.contentType, /^application\/json/);
    const body = healthResponseSchema.parse(res.json);
    assert.deepEqual(Object.keys(res.json).sort(), ['status', 'version']);
    assert.equal(body.status, 'ok');
    assert.match(body.version, /^\d+\.\d+\.\d+/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('GET /api/v1/catalog lists juminhyo with its options, fee and maxCopies', async () => {
    const res = await ts.http('GET', '/api/v1/catalog');
    assert.equal(res.status, 200, res.text);
    const catalog = catalogResponseSchema.parse(res.json);
    assert.deepEqual(catalog.municipality, DEMO_MUNICIPALITY);
    for (const t of catalog.certificateTypes) assert.ok((CERTIFICATE_TYPES as readonly string[]).includes(t.type), t.type);
    const jm = catalog.certificateTypes.find((t) => t.type === 'juminhyo');
    assert.ok(jm, 'juminhyo is listed');
    assert.equal(jm.name.ja, '住民票の写し');
    assert.equal(jm.fee, 200);
    assert.equal(jm.maxCopies, 10);
    const opts = Object.fromEntries(jm.options.map((o) => [o.name, { values: [...o.values].sort(), default: o.default }]));
    assert.deepEqual(opts, {
      scope: { values: ['household', 'members', 'self'], default: 'self' },
      domicile: { values: ['include', 'omit'], default: 'omit' },
      relationship: { values: ['include', 'omit'], default: 'include' },
      nationality: { values: ['include', 'omit'], default: 'include' },
      residenceStatus: { values: ['include', 'omit'], default: 'omit' },
      residenceCard: { values: ['include', 'omit'], default: 'omit' },
    });
    for (const o of jm.options) assert.ok(o.values.includes(o.default), `${o.name} default is one of its values`);
  });

  it('answers 404 not_found (JSON) for a path no route claims, whatever the method', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nope'],
      ['POST', '/api/v2/auth/challenge'],
      ['PUT', '/api/v1/applications'],
      ['GET', '/'],
    ] as const) {
      assertError(await ts.http(method, path), 404, 'not_found', `${method} ${path}`);
    }
  });

  it('GET /api/v1/verify/{code} for an unknown code is 404 not_found', async () => {
    assertError(await ts.http('GET', '/api/v1/verify/ABCD-EFGH-JKMN-PQRS'), 404, 'not_found');
  });

  it('GET /verify/{code} for an unknown code is a 404 HTML page that escapes the code', async () => {
    const res = await ts.http('GET', `/verify/${encodeURIComponent('<script>alert(1)</script>')}`);
    assert.equal(res.status, 404);
    assert.match(res.contentType, /^text\/html/);
    assert.match(res.text, /<!doctype html>/i);
    assert.ok(!res.text.includes('<script>'), 'the code is escaped');
    assert.ok(res.text.includes('&#60;script&#62;'), 'the code is shown escaped');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });
});

describe('integration: server before init', () => {
  let ts: TestServer;
  before(async () => {
    ts = await TestServer.start({}, false);
  });
  after(async () => {
    await ts?.close();
  });

  it('answers the catalog with 503 service_unavailable but stays healthy', async () => {
    assertError(await ts.http('GET', '/api/v1/catalog'), 503, 'service_unavailable');
    assert.equal((await ts.http('GET', '/api/v1/health')).status, 200);
  });
});
