// The device key sealed by the OS keystore through Electron's safeStorage (DPAPI, Keychain,
// libsecret/kwallet), with a plain key file from an earlier run sealed in place.
import type { SafeStorage } from 'electron';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { plainFileProtector, type KeyProtector } from '../core/device-key.ts';

/** Marks a sealed key file; a plain PKCS#8 key starts with 0x30 and can never look like it. */
const SEALED_MAGIC = Buffer.from('CSK1');
/** The kind of the keystore-backed protector. */
export const SAFE_STORAGE_KIND = 'electron-safe-storage';

/** The key file is sealed by a keystore this session cannot open. */
export class KeyStoreUnavailableError extends Error {
  constructor() {
    super('the device key is sealed by the system keystore, which is not available in this session');
    this.name = 'KeyStoreUnavailableError';
  }
}

type Storage = Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString' | 'getSelectedStorageBackend'>;

function isSealed(stored: Buffer): boolean {
  return stored.subarray(0, SEALED_MAGIC.length).equals(SEALED_MAGIC);
}

/** The keystore on Linux when it is only Chromium's hard-coded key: no better than a 0600 file. */
function usable(storage: Storage): boolean {
  if (!storage.isEncryptionAvailable()) return false;
  return process.platform !== 'linux' || storage.getSelectedStorageBackend() !== 'basic_text';
}

/** A KeyProtector over safeStorage; without a usable keystore it keeps the key as a 0600 file. */
export function safeStorageProtector(storage: Storage): KeyProtector {
  if (!usable(storage)) {
    return {
      ...plainFileProtector,
      unprotect: (stored) => {
        if (isSealed(stored)) throw new KeyStoreUnavailableError();
        return stored;
      },
    };
  }
  return {
    kind: SAFE_STORAGE_KIND,
    protect: (plain) => Buffer.concat([SEALED_MAGIC, storage.encryptString(plain.toString('base64'))]),
    // A plain key from before the keystore was used reads as is (sealKeyFile seals it).
    unprotect: (stored) => (isSealed(stored) ? Buffer.from(storage.decryptString(stored.subarray(SEALED_MAGIC.length)), 'base64') : stored),
  };
}

/** Seals a plain key file in place (write-then-rename, 0600); true when it did. */
export function sealKeyFile(path: string, protector: KeyProtector): boolean {
  if (protector.kind !== SAFE_STORAGE_KIND || !existsSync(path)) return false;
  const stored = readFileSync(path);
  if (isSealed(stored)) return false;
  writeFileSync(`${path}.tmp`, protector.protect(stored), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return true;
}
