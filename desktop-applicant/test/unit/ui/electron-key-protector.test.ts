// The device key under safeStorage: new keys sealed, an existing plain key file sealed in place,
// and a sealed key never misread as plain when the keystore is gone.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceKey, plainFileProtector } from '../../../src/core/device-key.ts';
import { KeyStoreUnavailableError, SAFE_STORAGE_KIND, safeStorageProtector, sealKeyFile } from '../../../src/electron/key-protector.ts';
import { fakeSafeStorage } from './helpers/electron-double.ts';

const isDer = (b: Buffer) => b[0] === 0x30;

describe('electron: device key in the OS keystore (safeStorage)', () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'applicant-key-'));
    path = join(dir, 'device-key.bin');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a new key is written sealed and reads back as the same key', () => {
    const protector = safeStorageProtector(fakeSafeStorage(true));
    assert.equal(protector.kind, SAFE_STORAGE_KIND);
    const key = DeviceKey.loadOrCreate(path, protector);
    const stored = readFileSync(path);
    assert.ok(!isDer(stored), 'no plain PKCS#8 on disk');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(DeviceKey.loadOrCreate(path, protector).publicKeyBase64, key.publicKeyBase64);
  });

  it('an existing plain key file is sealed in place and keeps its identity (the server knows that key)', () => {
    const before = DeviceKey.loadOrCreate(path, plainFileProtector);
    assert.ok(isDer(readFileSync(path)));
    const protector = safeStorageProtector(fakeSafeStorage(true));
    assert.equal(sealKeyFile(path, protector), true);
    assert.ok(!isDer(readFileSync(path)));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(sealKeyFile(path, protector), false, 'sealed once only');
    assert.equal(DeviceKey.loadOrCreate(path, protector).publicKeyBase64, before.publicKeyBase64);
  });

  it('without a keystore the key stays a 0600 file; nothing to seal', () => {
    const protector = safeStorageProtector(fakeSafeStorage(false));
    assert.equal(protector.kind, plainFileProtector.kind);
    DeviceKey.loadOrCreate(path, protector);
    assert.ok(isDer(readFileSync(path)));
    assert.equal(sealKeyFile(path, protector), false);
  });

  it('Linux basic_text (Chromium’s hard-coded key) does not count as a keystore', function () {
    if (process.platform !== 'linux') this.skip();
    assert.equal(safeStorageProtector(fakeSafeStorage(true, 'basic_text')).kind, plainFileProtector.kind);
  });

  it('a sealed key with the keystore gone is an explicit error, never read as a plain key', () => {
    DeviceKey.loadOrCreate(path, safeStorageProtector(fakeSafeStorage(true)));
    assert.throws(() => DeviceKey.loadOrCreate(path, safeStorageProtector(fakeSafeStorage(false))), KeyStoreUnavailableError);
  });
});
