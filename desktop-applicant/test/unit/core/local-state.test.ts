// What the applicant core keeps on disk: receipts (receipts.json) and the device key.
import type { Application } from '@cert/common';
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceKey, type KeyProtector } from '../../../src/core/device-key.ts';
import { ReceiptStore } from '../../../src/core/receipt-store.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

function application(n: number, createdAt: string, status: Application['status'] = 'submitted'): Application {
  return {
    applicationId: `app-${n}`,
    receiptNumber: `1234567890${n}`.slice(0, 12).padEnd(12, '0'),
    status,
    expiresAt: '2030-01-01T00:00:00.000Z',
    fee: 200,
    certificateType: 'juminhyo',
    options: { scope: 'household' },
    copies: 1,
    createdAt,
  };
}

describe('applicant core: local state', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'applicant-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  describe('ReceiptStore', () => {
    it('starts empty, without creating a file', () => {
      const store = new ReceiptStore(join(dir, 'data'));
      assert.deepEqual(store.all(), []);
      assert.equal(existsSync(join(dir, 'data')), false);
    });

    it('upsert writes receipts.json with mode 0600 in a 0700 directory, newest first', () => {
      const data = join(dir, 'data');
      const store = new ReceiptStore(data);
      const out = store.upsert('https://city.example', [application(1, '2026-01-01T00:00:00Z'), application(2, '2026-01-02T00:00:00Z')]);
      assert.deepEqual(
        out.map((r) => r.applicationId),
        ['app-2', 'app-1'],
      );
      assert.equal(out[0]!.serverUrl, 'https://city.example');
      assert.equal(mode(join(data, 'receipts.json')), 0o600);
      assert.equal(mode(data), 0o700);
      // A new store object (the app restarted) reads the same.
      assert.deepEqual(new ReceiptStore(data).all(), out);
    });

    it('upsert replaces by application id and keeps the others', () => {
      const store = new ReceiptStore(dir);
      store.upsert('s', [application(1, '2026-01-01T00:00:00Z'), application(2, '2026-01-02T00:00:00Z')]);
      const out = store.upsert('s', [application(1, '2026-01-01T00:00:00Z', 'printed'), application(3, '2026-01-03T00:00:00Z')]);
      assert.deepEqual(
        out.map((r) => `${r.applicationId}:${r.status}`),
        ['app-3:submitted', 'app-2:submitted', 'app-1:printed'],
      );
      assert.equal(store.all().length, 3);
    });

    it('setStatus records a pushed status; unknown ids and unchanged statuses do not rewrite the file', () => {
      const store = new ReceiptStore(dir);
      store.upsert('s', [application(1, '2026-01-01T00:00:00Z')]);
      const path = join(dir, 'receipts.json');
      store.setStatus('app-1', 'in_issuance');
      assert.equal(store.all()[0]!.status, 'in_issuance');
      const before = readFileSync(path, 'utf8');
      const mtime = statSync(path).mtimeMs;
      store.setStatus('app-1', 'in_issuance');
      store.setStatus('nope', 'printed');
      assert.equal(readFileSync(path, 'utf8'), before);
      assert.equal(statSync(path).mtimeMs, mtime);
      store.setStatus('app-1', 'printed');
      assert.equal(new ReceiptStore(dir).all()[0]!.status, 'printed');
    });

    it('writes atomically: no temporary file is left, and a loose mode is tightened on the next write', () => {
      const store = new ReceiptStore(dir);
      store.upsert('s', [application(1, '2026-01-01T00:00:00Z')]);
      chmodSync(join(dir, 'receipts.json'), 0o644);
      store.setStatus('app-1', 'printed');
      assert.equal(mode(join(dir, 'receipts.json')), 0o600);
      assert.deepEqual(readdirSync(dir), ['receipts.json']);
    });

    it('a write that fails half-way leaves the previous file whole (write-then-rename)', () => {
      const store = new ReceiptStore(dir);
      store.upsert('s', [application(1, '2026-01-01T00:00:00Z')]);
      const before = readFileSync(join(dir, 'receipts.json'), 'utf8');
      // The temporary file cannot be written (a directory is in its way): the write fails before the rename.
      mkdirSync(join(dir, 'receipts.json.tmp'));
      assert.throws(() => store.upsert('s', [application(2, '2026-01-02T00:00:00Z')]));
      assert.equal(readFileSync(join(dir, 'receipts.json'), 'utf8'), before);
      assert.deepEqual(
        store.all().map((r) => r.applicationId),
        ['app-1'],
      );
    });

    it('a damaged file reads as empty instead of crashing the app', () => {
      writeFileSync(join(dir, 'receipts.json'), '{"receipts": [ {"half": ');
      assert.deepEqual(new ReceiptStore(dir).all(), []);
      writeFileSync(join(dir, 'receipts.json'), JSON.stringify({ receipts: [{ applicationId: 1 }] }));
      assert.deepEqual(new ReceiptStore(dir).all(), []);
    });
  });

  describe('DeviceKey', () => {
    it('is created with mode 0600 and is the same key after a reload', () => {
      const path = join(dir, 'keys', 'device-key.bin');
      const a = DeviceKey.loadOrCreate(path);
      assert.equal(mode(path), 0o600);
      assert.equal(mode(join(dir, 'keys')), 0o700);
      const b = DeviceKey.loadOrCreate(path);
      assert.equal(b.publicKeyBase64, a.publicKeyBase64);
      assert.deepEqual(readdirSync(join(dir, 'keys')), ['device-key.bin'], 'no temporary file left');
      // Another file is another key.
      assert.notEqual(DeviceKey.loadOrCreate(join(dir, 'other.bin')).publicKeyBase64, a.publicKeyBase64);
    });

    it('signs as ECDSA P-256 / SHA-256 with a raw r‖s signature (64 bytes) that verifies against the SPKI it publishes', () => {
      const key = DeviceKey.loadOrCreate(join(dir, 'device-key.bin'));
      const spki = createPublicKey({ key: Buffer.from(key.publicKeyBase64, 'base64'), format: 'der', type: 'spki' });
      assert.equal(spki.asymmetricKeyType, 'ec');
      assert.equal(spki.asymmetricKeyDetails?.namedCurve, 'prime256v1');
      const text = new TextEncoder().encode('jp-cert-issuance/device/v1\nnonce');
      const sig = Buffer.from(key.sign(text), 'base64');
      assert.equal(sig.length, 64);
      assert.ok(cryptoVerify('sha256', text, { key: spki, dsaEncoding: 'ieee-p1363' }, sig));
      assert.equal(cryptoVerify('sha256', new TextEncoder().encode('jp-cert-issuance/device/v1\nother'), { key: spki, dsaEncoding: 'ieee-p1363' }, sig), false);
      // A reloaded key signs verifiably too.
      const again = DeviceKey.loadOrCreate(join(dir, 'device-key.bin'));
      assert.ok(cryptoVerify('sha256', text, { key: spki, dsaEncoding: 'ieee-p1363' }, Buffer.from(again.sign(text), 'base64')));
    });

    it('goes through the key protector both ways (what safeStorage does in the Electron app)', () => {
      const calls: string[] = [];
      const xor = (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a));
      const protector: KeyProtector = {
        kind: 'test-xor',
        protect: (b) => (calls.push('protect'), xor(b)),
        unprotect: (b) => (calls.push('unprotect'), xor(b)),
      };
      const path = join(dir, 'device-key.bin');
      const a = DeviceKey.loadOrCreate(path, protector);
      const sealed = readFileSync(path);
      // The file is not a plain PKCS#8 DER (which starts 30 81 87 02 01 00 for P-256).
      assert.notEqual(sealed.subarray(0, 2).toString('hex'), '3081');
      const b = DeviceKey.loadOrCreate(path, protector);
      assert.equal(b.publicKeyBase64, a.publicKeyBase64);
      assert.deepEqual(calls, ['protect', 'unprotect']);
    });

    it('tightens a key file found with a loose mode', () => {
      const path = join(dir, 'device-key.bin');
      DeviceKey.loadOrCreate(path);
      chmodSync(path, 0o644);
      DeviceKey.loadOrCreate(path);
      assert.equal(mode(path), 0o600);
    });
  });
});
