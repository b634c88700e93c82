import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Seals the key file's bytes at rest (Electron's safeStorage where available; identity otherwise). */
export interface KeyProtector {
  readonly kind: string;
  protect(plain: Buffer): Buffer;
  unprotect(sealed: Buffer): Buffer;
}

/** No sealing: the file's 0600 mode is the only protection. */
export const plainFileProtector: KeyProtector = { kind: 'file-0600', protect: (b) => b, unprotect: (b) => b };

/** The applicant device's ECDSA P-256 key, which signs socket logins and print confirmations. */
export class DeviceKey {
  private constructor(
    private readonly privateKey: KeyObject,
    /** Base64 DER SubjectPublicKeyInfo, as the contract sends it. */
    readonly publicKeyBase64: string,
  ) {}

  /** Loads the key from `path`, creating it (mode 0600) on first use. */
  static loadOrCreate(path: string, protector: KeyProtector = plainFileProtector): DeviceKey {
    let pkcs8: Buffer;
    if (existsSync(path)) {
      pkcs8 = protector.unprotect(readFileSync(path));
    } else {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Write-then-rename so a crash never leaves half a key behind.
      writeFileSync(`${path}.tmp`, protector.protect(pkcs8), { mode: 0o600 });
      renameSync(`${path}.tmp`, path);
    }
    chmodSync(path, 0o600);
    const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    return new DeviceKey(privateKey, spki.toString('base64'));
  }

  /** ECDSA P-256/SHA-256 signature as raw r‖s, base64 (PROTOCOL.md). */
  sign(text: Uint8Array): string {
    return sign('sha256', text, { key: this.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64');
  }
}
