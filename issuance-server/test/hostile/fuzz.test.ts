// Malformed input against a server run through its CLI (PROTOCOL.md: "no request, however
// malformed, gets a 5xx or closes the process"; every error is {"error": {"code", "message"}}).
// Requests and frames come from a seeded PRNG, so a failure reproduces with HOSTILE_SEED.
// Failures are gathered per case and reported together, so one run shows every broken case.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APPLICANT_SOCKET_PATH, deviceSignedText } from '@cert/common';
import { DeviceKey } from 'desktop-applicant';
import { KioskApi } from 'kiosk-shell';
import { rawExchange } from '../integration/harness.ts';
import { LoadServer, seedLoadDataDir, UNLIMITED_RATE_LIMITS } from '@cert/scripts/load';
import { ResidentAgent } from '@cert/scripts/load';
import { buildLoadRegister } from '@cert/scripts/load';
import { ensureTestPki } from '@cert/scripts/pki';
import { softwareToken } from '@cert/scripts/rig';
import { limiter } from '@cert/scripts/load';
import { prng, reportSeedOnFailure, testSeed } from './hostile-helpers.ts';
import { RawWebSocket, type FrameSpec, type ServerFrame } from './raw-websocket.ts';

const HTTP_CASES = Number(process.env['HOSTILE_FUZZ_HTTP'] ?? 7000);
const PROTOCOL_CASES = Number(process.env['HOSTILE_FUZZ_PROTOCOL'] ?? 1500);
const WS_FRAMES = Number(process.env['HOSTILE_FUZZ_WS'] ?? 3000);
const CONCURRENCY = 12;
/** Messages up to this size must be answered; bigger ones may also be refused with a close (1009). */
const WS_MESSAGE_LIMIT = 16 * 1024;

/** What the fuzzer knows of the server: a session, a kiosk, an application, an issuance, a device. */
interface Ctx {
  port: number;
  session: string;
  kiosk: string;
  applicationId: string;
  issuanceId: string;
  receipt: string;
  certificate: string;
  device: DeviceKey;
}

/** One malformed request; `build` gets a fresh challenge id when `challenge` is set. */
interface HttpCase {
  /** Groups the report: the same label means the same kind of mistake. */
  label: string;
  build: (challengeId: string) => Buffer;
  challenge?: boolean;
  /** Bytes that are not HTTP at all: closing without an answer is acceptable. */
  garbage?: boolean;
  /** A HEAD request: the answer has no body to check. */
  head?: boolean;
}

/** Per label: how many ran, how many got no answer, and the violations with one example each. */
class Report {
  readonly counts = new Map<string, number>();
  readonly unanswered = new Map<string, number>();
  readonly violations = new Map<string, { n: number; example: string }>();
  total = 0;

  add(label: string): void {
    this.total++;
    this.counts.set(label, (this.counts.get(label) ?? 0) + 1);
  }

  silent(label: string): void {
    this.unanswered.set(label, (this.unanswered.get(label) ?? 0) + 1);
  }

  violation(label: string, example: string): void {
    const v = this.violations.get(label);
    this.violations.set(label, { n: (v?.n ?? 0) + 1, example: v?.example ?? example });
  }

  /** The violations, one line per label, for the assertion message. */
  describe(): string[] {
    return [...this.violations].map(([label, v]) => `${label}: ${v.n}/${this.counts.get(label)} — ${v.example}`);
  }
}

/** The payload of a chunked body (as far as it arrived). */
function dechunk(raw: string): string {
  let out = '';
  let rest = raw;
  for (;;) {
    const line = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, line), 16);
    if (line < 0 || !(size > 0)) return out;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 4 + size);
  }
}

/** Parses what came back: the final answer after any 1xx, its headers and body bytes. */
function parseAnswer(raw: string): { status: number; headers: Map<string, string>; body: Buffer } | null {
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(rest);
    if (!m || end < 0) return null;
    const status = Number(m[1]);
    const headers = new Map(
      rest
        .slice(0, end)
        .split('\r\n')
        .slice(1)
        .map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]),
    );
    rest = rest.slice(end + 4);
    if (status >= 100 && status < 200) continue;
    const length = Number(headers.get('content-length') ?? rest.length);
    const body = /chunked/i.test(headers.get('transfer-encoding') ?? '') ? dechunk(rest) : rest.slice(0, length);
    return { status, headers, body: Buffer.from(body, 'latin1') };
  }
}

/** Why an answer breaks the contract, or null: < 500, and every error JSON `{"error": {"code", "message"}}` exactly. */
function contractProblem(raw: string, head: boolean): string | null {
  const a = parseAnswer(raw);
  if (!a) return `no HTTP answer (${JSON.stringify(raw.slice(0, 60))})`;
  const text = a.body.toString('utf8');
  const shown = `HTTP ${a.status} ${a.headers.get('content-type') ?? '(no content type)'} ${JSON.stringify(text.slice(0, 80))}`;
  if (a.status >= 500) return shown;
  if (a.status < 400) return null;
  if (!/^application\/json/.test(a.headers.get('content-type') ?? '')) return shown;
  if (head) return null;
  try {
    const json = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const ok =
      Object.keys(json).join() === 'error' &&
      Object.keys(json.error ?? {}).sort().join() === 'code,message' &&
      typeof json.error?.code === 'string' &&
      typeof json.error.message === 'string' &&
      json.error.message.length > 0;
    return ok ? null : shown;
  } catch {
    return shown;
  }
}

/** A raw HTTP/1.1 request; `Content-Length` is added for a body unless the headers set one. */
function rawRequest(method: string, target: string, headers: [string, string][], body?: Buffer | string, options: { host?: string | null; version?: string; close?: boolean } = {}): Buffer {
  const lines = [`${method} ${target} ${options.version ?? 'HTTP/1.1'}`];
  if (options.host !== null) lines.push(`Host: ${options.host ?? '127.0.0.1'}`);
  for (const [k, v] of headers) lines.push(`${k}: ${v}`);
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  if (body !== undefined && !headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) lines.push(`Content-Length: ${bytes.length}`);
  // Closing after the answer lets the exchange end at once instead of at its timeout.
  if (options.close ?? true) lines.push('Connection: close');
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), bytes]);
}

/** JSON values of every wrong type and shape. */
function junkValue(rand: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  return pick<() => unknown>([
    () => null, () => true, () => 0, () => -1, () => 1.5, () => 1e308, () => -0, () => 2 ** 53 + 1,
    () => '', () => ' ', () => 'x'.repeat(Math.floor(rand() * 5000)), () => '\u0000', () => '\ud800', () => '😀'.repeat(40),
    () => [], () => ({}), () => [null], () => ({ a: { b: { c: [] } } }), () => '!!!not base64!!!', () => 'QUJD=', () => '====',
    () => 'QUJD\nRA==', () => '-_-_', () => 'A'.repeat(30_000), () => '123456789012', () => '1234-5678-9012', () => '../../etc/passwd',
    () => JSON.parse('{"__proto__":{"polluted":true}}') as unknown, () => ({ constructor: { prototype: { polluted: true } } }),
  ])();
}

/** A body template with one to three of its fields broken (removed, retyped, renamed) or extras added. */
function mutateBody(template: Record<string, unknown>, rand: () => number): unknown {
  if (rand() < 0.1) return junkValue(rand);
  const body: Record<string, unknown> = { ...template };
  const keys = Object.keys(template);
  for (let m = 0, n = 1 + Math.floor(rand() * 3); m < n; m++) {
    const key = keys[Math.floor(rand() * keys.length)];
    const r = rand();
    if (key === undefined || r < 0.15) body[`extra${m}`] = junkValue(rand);
    else if (r < 0.35) delete body[key];
    else if (r < 0.45) {
      body[key.toUpperCase()] = body[key];
      delete body[key];
    } else body[key] = junkValue(rand);
  }
  return body;
}

const BAD_JSON: (string | Buffer)[] = [
  '{', '{"a":', '[1,2', '{"a":1,}', "{'a':1}", 'NaN', '{"copies":01}', '\ufeff{}', '{"a":"\\x41"}', '{"a":"\\ud800"}',
  '['.repeat(5000) + ']'.repeat(5000), '{"a":'.repeat(3000) + '1' + '}'.repeat(3000), '{"copies":1,"copies":"x"}',
  '{"__proto__":{"polluted":true}}', 'true', '"string"', '12', 'null', '', ' ', '\r\n', '{}garbage', '{"a":1}{"b":2}',
  Buffer.from([0xc3, 0x28]), Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xe3, 0x81]),
  Buffer.from('{"receiptNumber":"\xe3\x81"}', 'latin1'), Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]),
];
const BAD_IDS = [
  '%', '%00', '%zz', '..%2f..%2fetc%2fpasswd', 'x'.repeat(3000), '%F0%9F%98%80', '%F0%9F%98', '00000000-0000-0000-0000-000000000000',
  '%20', ';', '%22', '%3Cscript%3E', 'a%2Fb', '%E0%A4%A', '%C0%AF', 'null', '-1', '1e9', '%0d%0aX-Injected:%201', '.', '..',
];
const CONTENT_TYPES = [
  'text/plain', 'application/json; charset=utf-16', 'application/json; charset=latin1', 'application/json; charset=bogus', '',
  'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json;;;', '*/*', 'application/json; charset="utf-8"',
];
const ENCODINGS = ['gzip', 'br', 'deflate', 'identity', 'gzip, gzip', 'compress', 'x-unknown'];
const AUTHORIZATIONS = ['Bearer', 'Bearer ', 'Bearer a b', 'Basic dXNlcjpwYXNz', `Bearer ${'a'.repeat(8000)}`, 'Bearer \u00e9\u00ff', 'bearer x', 'Bearer kiosk-0000000000.x', `Bearer ${'.'.repeat(50)}`, 'Bearer\tx', 'Negotiate x'];
const METHODS = ['PUT', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'LINK', 'PURGE', 'SEARCH', 'FOO', 'get', 'DELETE', 'POST', 'HEAD'];
const QUERIES = ['waitMs=-1', 'waitMs=abc', 'waitMs=1e9', 'waitMs=30001', 'waitMs=0x10', 'waitMs=', 'waitMs=1.5', 'waitMs=Infinity', 'waitMs=%00', 'since=bogus', 'waitMs=1&waitMs=2', 'waitMs[]=1', 'waitMs[a]=1', 'extra=1', '%', '&&&', 'since=approved&since=expired'];

/** The application-level cases: wrong JSON, bad ids, odd methods, headers, queries, encodings, huge bodies. */
function applicationCases(ctx: Ctx, rand: () => number, n: number): HttpCase[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const session = ['Authorization', `Bearer ${ctx.session}`] as [string, string];
  const kiosk = ['Authorization', `Bearer ${ctx.kiosk}`] as [string, string];
  const json = ['Content-Type', 'application/json'] as [string, string];
  const loginTemplate = { challengeId: '$CHALLENGE', certificate: ctx.certificate, signature: Buffer.alloc(256, 1).toString('base64'), devicePublicKey: ctx.device.publicKeyBase64 };
  const bodies: { path: string; auth?: [string, string]; template: Record<string, unknown>; challenge?: boolean }[] = [
    { path: '/api/v1/auth/challenge', template: {} },
    { path: '/api/v1/auth/login', template: loginTemplate, challenge: true },
    { path: '/api/v1/applications', auth: session, template: { certificateType: 'juminhyo', options: { scope: 'self' }, copies: 1 } },
    { path: '/api/v1/kiosk/issuances', auth: kiosk, template: { receiptNumber: ctx.receipt } },
    { path: `/api/v1/kiosk/issuances/${ctx.issuanceId}/result`, auth: kiosk, template: { outcome: 'failed', detail: 'paper jam' } },
  ];
  const idPaths: { method: string; path: (id: string) => string; auth?: [string, string] }[] = [
    { method: 'GET', path: (id) => `/api/v1/applications/${id}`, auth: session },
    { method: 'DELETE', path: (id) => `/api/v1/applications/${id}`, auth: session },
    { method: 'GET', path: (id) => `/api/v1/kiosk/issuances/${id}?waitMs=0`, auth: kiosk },
    { method: 'DELETE', path: (id) => `/api/v1/kiosk/issuances/${id}`, auth: kiosk },
    { method: 'GET', path: (id) => `/api/v1/kiosk/issuances/${id}/document`, auth: kiosk },
    { method: 'POST', path: (id) => `/api/v1/kiosk/issuances/${id}/result`, auth: kiosk },
    { method: 'GET', path: (id) => `/api/v1/verify/${id}` },
  ];
  const anyPath = () => pick([...bodies.map((b) => b.path), '/api/v1/health', '/api/v1/catalog', '/api/v1/applications', `/api/v1/kiosk/issuances/${ctx.issuanceId}`, '/nowhere', '/']);
  const makers: (() => HttpCase)[] = [
    () => {
      const e = pick(bodies);
      const body = JSON.stringify(mutateBody(e.template, rand));
      return { label: `wrong JSON fields: POST ${e.path.replace(ctx.issuanceId, '{id}')}`, challenge: !!e.challenge, build: (c) => rawRequest('POST', e.path, [json, ...(e.auth ? [e.auth] : [])], body.replace('$CHALLENGE', c)) };
    },
    () => {
      const e = pick(bodies);
      const body = pick(BAD_JSON);
      return { label: `malformed JSON: POST ${e.path.replace(ctx.issuanceId, '{id}')}`, build: () => rawRequest('POST', e.path, [json, ...(e.auth ? [e.auth] : [])], body) };
    },
    () => {
      const p = pick(idPaths);
      const id = pick(BAD_IDS);
      return { label: `bad id: ${p.method} ${p.path('{id}')}`, build: () => rawRequest(p.method, p.path(id), p.auth ? [p.auth, json] : [json], p.method === 'POST' ? '{"outcome":"printed"}' : undefined) };
    },
    () => {
      const method = pick(METHODS);
      const path = anyPath();
      return { label: `method ${method}`, head: method === 'HEAD', build: () => rawRequest(method, path, [json, ...(rand() < 0.5 ? [session] : [kiosk])], method === 'GET' || method === 'HEAD' ? undefined : '{}') };
    },
    () => {
      // Real ids with the other role's credential: an applicant's session at the kiosk API and back.
      const [method, path, auth] = pick([
        ['GET', `/api/v1/applications/${ctx.applicationId}`, kiosk],
        ['DELETE', `/api/v1/applications/${ctx.applicationId}`, kiosk],
        ['GET', `/api/v1/kiosk/issuances/${ctx.issuanceId}?waitMs=0`, session],
        ['GET', `/api/v1/kiosk/issuances/${ctx.issuanceId}/document`, session],
        ['DELETE', `/api/v1/kiosk/issuances/${ctx.issuanceId}`, session],
      ] as const);
      return { label: 'credential of the other role', build: () => rawRequest(method, path, [auth]) };
    },
    () => {
      const auth = pick(AUTHORIZATIONS);
      const e = pick(bodies.filter((b) => b.auth));
      return { label: 'bad Authorization', build: () => rawRequest('POST', e.path, [json, ['Authorization', auth]], JSON.stringify(e.template)) };
    },
    () => {
      const q = pick(QUERIES);
      return { label: 'bad query', build: () => rawRequest('GET', `/api/v1/kiosk/issuances/${ctx.issuanceId}?${q}`, [kiosk]) };
    },
    () => {
      const e = pick(bodies);
      const type = pick(CONTENT_TYPES);
      return { label: 'odd content type', build: () => rawRequest('POST', e.path, [['Content-Type', type], ...(e.auth ? [e.auth] : [])], JSON.stringify(e.template)) };
    },
    () => {
      const e = pick(bodies);
      const encoding = pick(ENCODINGS);
      const body = rand() < 0.5 ? Buffer.from(JSON.stringify(e.template)) : gzipSync(rand() < 0.3 ? Buffer.alloc(5_000_000, 0x20) : Buffer.from('{"x":'));
      return { label: `Content-Encoding ${encoding}`, build: () => rawRequest('POST', e.path, [json, ['Content-Encoding', encoding], ...(e.auth ? [e.auth] : [])], body) };
    },
    () => {
      const e = pick(bodies);
      const size = pick([65_537, 100_000, 1_000_000]);
      return { label: 'huge body', build: () => rawRequest('POST', e.path, [json, ...(e.auth ? [e.auth] : [])], `{"pad":"${'x'.repeat(size)}"}`) };
    },
  ];
  return Array.from({ length: n }, () => pick(makers)());
}

/** Protocol-level cases the HTTP parser or the upgrade handler sees before any route. */
function protocolCases(rand: () => number, n: number): HttpCase[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const ws: [string, string][] = [['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Version', '13'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ==']];
  const without = (name: string) => ws.filter(([k]) => k !== name);
  const with_ = (name: string, value: string) => ws.map(([k, v]) => [k, k === name ? value : v] as [string, string]);
  const json = ['Content-Type', 'application/json'] as [string, string];
  const fixed: [string, () => Buffer, boolean?][] = [
    ['Expect: bogus', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Expect', 'bogus']], '{}')],
    ['Expect: 100-continue', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Expect', '100-continue']], '{"x":1}')],
    ['Expect: (empty)', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Expect', '']], '{}')],
    ['no Host (HTTP/1.1)', () => rawRequest('GET', '/api/v1/health', [], undefined, { host: null })],
    ['two Host headers', () => rawRequest('GET', '/api/v1/health', [['Host', 'other']])],
    ['Content-Length: abc', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Content-Length', 'abc']], '{}')],
    ['Content-Length: -1', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Content-Length', '-1']], '{}')],
    ['two different Content-Lengths', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Content-Length', '2'], ['Content-Length', '3']], '{} ')],
    ['Content-Length with Transfer-Encoding', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Content-Length', '2'], ['Transfer-Encoding', 'chunked']], '0\r\n\r\n')],
    ['Content-Length shorter than the body', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Content-Length', '1']], '{}xyz')],
    ['Content-Length: 99999999999999999999', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Content-Length', '99999999999999999999']], '{}')],
    ['bad chunk size', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Transfer-Encoding', 'chunked']], 'zz\r\n{}\r\n0\r\n\r\n')],
    ['Transfer-Encoding: xchunked', () => rawRequest('POST', '/api/v1/auth/challenge', [json, ['Transfer-Encoding', 'xchunked']], '{}')],
    ['HTTP/9.9', () => rawRequest('GET', '/api/v1/health', [], undefined, { version: 'HTTP/9.9' })],
    ['HTTP/0.9 request line', () => Buffer.from('GET /api/v1/health\r\n\r\n')],
    ['extra token in the request line', () => rawRequest('GET', '/api/v1/health x', [])],
    ['lowercase method', () => rawRequest('get', '/api/v1/health', [])],
    ['unknown method', () => rawRequest('FROB', '/api/v1/health', [])],
    ['CONNECT', () => rawRequest('CONNECT', '127.0.0.1:1', [])],
    ['OPTIONS *', () => rawRequest('OPTIONS', '*', [])],
    ['absolute-form target', () => rawRequest('GET', 'http://127.0.0.1/api/v1/health', [])],
    ['target of 20 kB', () => rawRequest('GET', `/${'a'.repeat(20_000)}`, [])],
    ['header without a colon', () => Buffer.from('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n')],
    ['space in a header name', () => rawRequest('GET', '/api/v1/health', [['X Bad', 'y']])],
    ['NUL in a header value', () => rawRequest('GET', '/api/v1/health', [['X-Bad', 'a\u0000b']])],
    ['obs-fold header', () => Buffer.from('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n')],
    ['header of 20 kB', () => rawRequest('GET', '/api/v1/health', [['X-Big', 'b'.repeat(20_000)]])],
    ['3000 headers', () => rawRequest('GET', '/api/v1/health', Array.from({ length: 3000 }, (_, i) => [`X-H${i}`, 'v'] as [string, string]))],
    ['upgrade without Sec-WebSocket-Key', () => rawRequest('GET', APPLICANT_SOCKET_PATH, without('Sec-WebSocket-Key'), undefined, { close: false })],
    ['upgrade as POST', () => rawRequest('POST', APPLICANT_SOCKET_PATH, ws, '', { close: false })],
    ['upgrade with Sec-WebSocket-Version: 99', () => rawRequest('GET', APPLICANT_SOCKET_PATH, with_('Sec-WebSocket-Version', '99'), undefined, { close: false })],
    ['upgrade with Sec-WebSocket-Version: abc', () => rawRequest('GET', APPLICANT_SOCKET_PATH, with_('Sec-WebSocket-Version', 'abc'), undefined, { close: false })],
    ['upgrade with a short Sec-WebSocket-Key', () => rawRequest('GET', APPLICANT_SOCKET_PATH, with_('Sec-WebSocket-Key', 'c2hvcnQ='), undefined, { close: false })],
    ['Upgrade: h2c', () => rawRequest('GET', APPLICANT_SOCKET_PATH, [['Connection', 'Upgrade, HTTP2-Settings'], ['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA']], undefined, { close: false })],
    ['Upgrade: h2c elsewhere', () => rawRequest('GET', '/api/v1/health', [['Connection', 'Upgrade'], ['Upgrade', 'h2c']], undefined, { close: false })],
    ['websocket upgrade elsewhere', () => rawRequest('GET', '/api/v1/health', ws, undefined, { close: false })],
    ['Connection: Upgrade without Upgrade', () => rawRequest('GET', APPLICANT_SOCKET_PATH, without('Upgrade'))],
    ['TLS ClientHello on the plain port', () => Buffer.from('16030100a5010000a10303' + '00'.repeat(40), 'hex'), true],
    ['HTTP/2 preface', () => Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), true],
    ['SSH banner', () => Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), true],
  ];
  const cases: HttpCase[] = fixed.map(([label, build, garbage]) => ({ label, build, ...(garbage ? { garbage } : {}) }));
  while (cases.length < n) {
    if (rand() < 0.3) {
      // Random bytes: sometimes pure noise, sometimes an HTTP-looking start that goes wrong.
      const noise = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 2000) }, () => Math.floor(rand() * 256)));
      const prefix = rand() < 0.5 ? Buffer.from(pick(['GET / HTTP/1.1\r\n', 'POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n', 'G', '\r\n'])) : Buffer.alloc(0);
      // An HTTP-looking start gets an end of headers, so that the server has a whole request to refuse.
      const end = Buffer.from(prefix.length ? '\r\n\r\n' : '');
      const bytes = Buffer.concat([prefix, noise, end]);
      // Blank lines before a request line are skipped by HTTP (RFC 9112 §2.2): bytes that are
      // all CR/LF are no request yet, so closing without an answer is right for them too.
      const noRequest = !prefix.length || /^[\r\n]*$/.test(bytes.toString('latin1'));
      cases.push({ label: prefix.length ? 'HTTP start, then random bytes' : 'random bytes (not HTTP)', garbage: noRequest, build: () => bytes });
    } else {
      const [label, build, garbage] = pick(fixed);
      cases.push({ label, build, ...(garbage ? { garbage } : {}) });
    }
  }
  return cases;
}

describe('hostile: fuzzing the wire', function () {
  this.timeout(180_000);
  const seed = testSeed();
  reportSeedOnFailure(seed);
  let work: string;
  let server: LoadServer;
  let ctx: Ctx;

  before(async () => {
    const pki = await ensureTestPki();
    work = mkdtempSync(join(tmpdir(), 'hostile-fuzz-'));
    const register = await buildLoadRegister(pki, join(work, 'cards'), 1);
    server = new LoadServer(join(work, 'data'), UNLIMITED_RATE_LIMITS);
    const seeded = await seedLoadDataDir(server.dataDir, pki, register, 2);
    await server.start();
    const card = pki.residents['R0001']!.auth;
    const agent = await ResidentAgent.login(server.endpoint, 'R0001', softwareToken(card), join(work, 'device.der'));
    const app = await agent.apply({ certificateType: 'juminhyo', options: {}, copies: 1 });
    const kiosk = new KioskApi(server.endpoint, seeded.kiosks[0]!.credential);
    const issuance = await kiosk.start(app.receiptNumber);
    // A final issuance: status queries answer at once instead of long-polling.
    await kiosk.abandon(issuance.issuanceId);
    ctx = {
      port: Number(new URL(server.endpoint.baseUrl).port),
      session: agent.api.currentSession!.sessionToken,
      kiosk: seeded.kiosks[0]!.credential,
      applicationId: app.applicationId,
      issuanceId: issuance.issuanceId,
      receipt: app.receiptNumber,
      certificate: Buffer.from(readFileSync(card.certPath, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64').toString('base64'),
      device: DeviceKey.loadOrCreate(join(work, 'device.der')),
    };
  });

  after(async () => {
    await server?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs the cases against the server and checks each answer against the contract. */
  async function run(cases: HttpCase[]): Promise<Report> {
    const report = new Report();
    const slot = limiter(CONCURRENCY);
    await Promise.all(
      cases.map((c) =>
        slot(async () => {
          report.add(c.label);
          let challengeId = '00000000-0000-0000-0000-000000000000';
          if (c.challenge) challengeId = ((await (await fetch(`${server.endpoint.baseUrl}/api/v1/auth/challenge`, { method: 'POST' })).json()) as { challengeId: string }).challengeId;
          const bytes = c.build(challengeId);
          const { status, raw } = await rawExchange(ctx.port, bytes, 5000);
          if (status === null && raw === '') {
            report.silent(c.label);
            if (!c.garbage) report.violation(c.label, `closed without an answer: ${JSON.stringify(bytes.toString('latin1').slice(0, 100))}`);
            return;
          }
          const problem = contractProblem(raw, !!c.head);
          if (problem) report.violation(c.label, `${problem} ← ${JSON.stringify(bytes.toString('latin1').slice(0, 100))}`);
        }),
      ),
    );
    return report;
  }

  /** The server process is alive and answers health. */
  async function assertAlive(): Promise<void> {
    assert.equal(server.process.child.exitCode, null, 'the server process exited');
    const health = await fetch(`${server.endpoint.baseUrl}/api/v1/health`);
    assert.equal(health.status, 200);
  }

  function summarise(report: Report, what: string): void {
    const silent = [...report.unanswered].map(([l, n]) => `${l} ×${n}`).join(', ');
    console.log(`      ${what}: ${report.total} requests over ${report.counts.size} kinds; closed without an answer: ${silent || 'none'}`);
  }

  it(`${HTTP_CASES} malformed application requests: never 5xx, every error in the contract shape`, async () => {
    const report = await run(applicationCases(ctx, prng(seed), HTTP_CASES));
    summarise(report, 'application level');
    await assertAlive();
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined, 'prototype pollution');
    assert.deepEqual(report.describe(), [], `seed ${seed}`);
  });

  it(`${PROTOCOL_CASES} protocol-level requests (Expect, Host, Content-Length, request lines, headers, upgrades, non-HTTP bytes)`, async () => {
    const report = await run(protocolCases(prng(seed + 1), PROTOCOL_CASES));
    summarise(report, 'protocol level');
    await assertAlive();
    assert.deepEqual(report.describe(), [], `seed ${seed}`);
  });

  it(`${WS_FRAMES} malformed WebSocket frames and messages before and after authentication`, async () => {
    const rand = prng(seed + 2);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const report = new Report();
    const text = (s: string): FrameSpec => ({ opcode: 0x1, payload: Buffer.from(s) });
    const json = (v: unknown): FrameSpec => text(JSON.stringify(v));
    // Messages that break the contract but not the WebSocket protocol: answered with an error message.
    const badMessages: (() => FrameSpec)[] = [
      () => text('not json'),
      () => text(''),
      () => text('{"type":'),
      () => json(junkValue(rand)),
      () => json({ type: junkValue(rand) }),
      () => json({ type: 'authenticate', devicePublicKey: junkValue(rand), signature: junkValue(rand) }),
      () => json({ type: 'authenticate', devicePublicKey: '!!!', signature: '@@@@' }),
      () => json({ type: 'authenticate', devicePublicKey: ctx.device.publicKeyBase64, signature: Buffer.alloc(64, 7).toString('base64') }),
      () => json({ type: 'print-confirmation-response', requestId: junkValue(rand), approved: junkValue(rand), signature: junkValue(rand) }),
      () => json({ type: 'print-confirmation-response', requestId: '00000000-0000-0000-0000-000000000000', approved: true, signature: Buffer.alloc(64, 1).toString('base64') }),
      () => json(mutateBody({ type: 'print-confirmation-response', requestId: 'r', approved: true, signature: 'QUJD' }, rand)),
      () => ({ opcode: 0x2, payload: Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))) }),
      () => ({ opcode: 0x9, payload: Buffer.from('ping') }),
      () => ({ opcode: 0xa, payload: Buffer.from('unsolicited pong') }),
      () => text('x'.repeat(16_000)),
    ];
    // Frames that break the WebSocket protocol itself: the server may close (1002/1007/1009), never with 1011.
    const badFrames: (() => FrameSpec)[] = [
      () => ({ ...text('{}'), mask: false }),
      () => ({ ...text('{}'), rsv: 1 + Math.floor(rand() * 7) }),
      () => ({ opcode: pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), payload: Buffer.from('x') }),
      () => ({ opcode: 0x9, fin: false, payload: Buffer.from('fragmented ping') }),
      () => ({ opcode: 0x9, payload: Buffer.alloc(126, 1) }),
      () => ({ opcode: 0x0, payload: Buffer.from('continuation without a start') }),
      () => ({ opcode: 0x1, payload: Buffer.from([0xc3, 0x28, 0xff]) }),
      () => ({ opcode: 0x1, payload: Buffer.alloc(20_000, 0x61) }),
      () => ({ opcode: 0x1, payload: Buffer.from('x'), declaredLength: 2n ** 63n - 1n }),
      () => ({ opcode: 0x8, payload: Buffer.from([0x03]) }),
      () => ({ opcode: 0x8, payload: Buffer.from([0x03, 0xe7]) }),
      () => ({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8, 0xc3, 0x28]) }),
      () => ({ opcode: 0x1, fin: false, payload: Buffer.from('{"type":') }),
    ];
    let frames = 0;
    let sockets = 0;

    /** Every text frame the server sent is JSON; errors carry a code and a message; closes are never 1011. */
    const checkServerFrames = async (s: RawWebSocket, label: string) => {
      for (const f of s.frames.filter((x) => x.opcode === 0x1)) {
        let msg: { type?: unknown; code?: unknown; message?: unknown };
        try {
          msg = JSON.parse(f.payload.toString('utf8')) as typeof msg;
        } catch {
          report.violation(label, `non-JSON text frame ${JSON.stringify(f.payload.toString('utf8').slice(0, 80))}`);
          continue;
        }
        if (typeof msg.type !== 'string') report.violation(label, `message without a type: ${f.payload.toString('utf8').slice(0, 80)}`);
        if (msg.type === 'error' && (typeof msg.code !== 'string' || typeof msg.message !== 'string' || !msg.message)) report.violation(label, `error message without code and message: ${f.payload.toString('utf8').slice(0, 120)}`);
      }
      if (s.isClosed && (await s.closed) === 1011) report.violation(label, 'closed with 1011 (internal error)');
    };

    /** A socket, authenticated with the registered device key when `authenticated`. */
    const open = async (authenticated: boolean): Promise<RawWebSocket> => {
      const s = await RawWebSocket.open(ctx.port, APPLICANT_SOCKET_PATH);
      sockets++;
      const hello = await s.waitFrame((f) => f.opcode === 0x1, 0);
      if (!authenticated) return s;
      const nonce = (JSON.parse(hello!.payload.toString('utf8')) as { nonce: string }).nonce;
      s.sendText(JSON.stringify({ type: 'authenticate', devicePublicKey: ctx.device.publicKeyBase64, signature: ctx.device.sign(deviceSignedText(nonce)) }));
      const ok = await s.waitFrame((f) => f.opcode === 0x1 && f.payload.toString().includes('"authenticated"'), 1);
      assert.ok(ok, 'the registered device could not authenticate');
      return s;
    };

    /**
     * What the server owes a frame: an error message, a close, a pong, nothing, or (a fragment
     * start) nothing yet. A message over the socket's size limit may be refused either way.
     */
    const owed = (spec: FrameSpec, breakProtocol: boolean, authenticated: boolean): 'answer' | 'close' | 'answer or close' | 'pong' | 'none' | 'pending' => {
      if (breakProtocol) return spec.opcode === 0x1 && spec.fin === false ? 'pending' : 'close';
      if ((spec.payload?.length ?? 0) > WS_MESSAGE_LIMIT) return 'answer or close';
      if (spec.opcode === 0x9) return 'pong';
      if (spec.opcode === 0xa) return 'none';
      return authenticated ? 'answer' : 'close';
    };

    let authed = await open(true);
    while (frames < WS_FRAMES) {
      const authenticated = rand() < 0.7;
      const breakProtocol = rand() < 0.15;
      const spec = breakProtocol ? pick(badFrames)() : pick(badMessages)();
      const label = `${breakProtocol ? 'protocol violation' : 'bad message'} ${authenticated ? 'after' : 'before'} authentication`;
      report.add(label);
      frames++;
      const s = authenticated ? authed : await open(false);
      const before = s.frames.length;
      s.send(spec);
      const expected = owed(spec, breakProtocol, authenticated);
      const shown = JSON.stringify(spec.payload?.toString('utf8').slice(0, 60) ?? '');
      let ended = expected === 'close' || expected === 'pending' || !authenticated;
      if (expected === 'answer' || expected === 'pong' || expected === 'answer or close') {
        // Pushes (a fuzzed claim elsewhere may send a confirmation request) are not answers.
        const isAnswer = (f: ServerFrame) => (expected === 'pong' ? f.opcode === 0xa : f.opcode === 0x1 && f.payload.includes('"type":"error"'));
        const answer = await s.waitFrame((f) => isAnswer(f) || f.opcode === 0x8, before).catch(() => null);
        const closed = !answer || answer.opcode === 0x8;
        if (closed && expected !== 'answer or close') report.violation(label, `${answer ? 'closed' : 'no answer'} after opcode ${spec.opcode} ${shown}`);
        if (!answer && !s.isClosed && expected === 'answer or close') report.violation(label, `neither an answer nor a close after ${spec.payload?.length} bytes`);
        ended ||= closed;
      } else if (expected === 'close') {
        const closing = await s.waitFrame((f) => f.opcode === 0x8, before).catch(() => null);
        if (!closing && !s.isClosed) report.violation(label, `still open after opcode ${spec.opcode} ${shown}`);
      }
      if (ended) {
        s.destroy();
        await s.closed;
        await checkServerFrames(s, label);
        if (s === authed) authed = await open(true);
      }
    }
    await checkServerFrames(authed, 'bad message authenticated');
    authed.destroy();
    console.log(`      websocket: ${frames} frames on ${sockets} sockets`);
    await assertAlive();
    assert.deepEqual(report.describe(), [], `seed ${seed}`);
  });
});
