import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from './certificate-verifier.ts';
import { ServiceError } from './service-error.ts';

/** A device public key as registered at login. */
export interface DeviceKey {
  der: Buffer;
  sha256: string;
  key: KeyObject;
}

/** Parses a device key (base64 DER SPKI) and insists on ECDSA P-256 (PROTOCOL.md). */
export function parseDeviceKey(base64: string): DeviceKey {
  const der = Buffer.from(base64, 'base64');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw new ServiceError('invalid_request', 'devicePublicKey is not a DER SubjectPublicKeyInfo');
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ServiceError('invalid_request', 'devicePublicKey must be an ECDSA P-256 key');
  }
  return { der, sha256: sha256Hex(der), key };
}

/** Verifies a raw r‖s ECDSA P-256 / SHA-256 signature by a device key. */
export function verifyDeviceSignature(key: KeyObject, text: Uint8Array, signatureBase64: string): boolean {
  const sig = Buffer.from(signatureBase64, 'base64');
  if (sig.length !== 64) return false;
  try {
    return verify('sha256', text, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}
