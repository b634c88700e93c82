import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kiosk } from '../store/kiosk-store.ts';
import type { Store } from '../store/store.ts';
import { sha256Hex } from './certificate-verifier.ts';
import { ServiceError } from './service-error.ts';

/** A new kiosk id and its credential `<id>.<secret>`; only the credential's hash is stored. */
export function newKioskCredential(): { id: string; credential: string; credentialSha256: string } {
  const id = `kiosk-${randomBytes(5).toString('hex')}`;
  const credential = `${id}.${randomBytes(32).toString('base64url')}`;
  return { id, credential, credentialSha256: sha256Hex(Buffer.from(credential)) };
}

/** The kiosk a bearer credential belongs to, or `kiosk_unauthorized`. */
export async function authenticateKiosk(store: Store, credential: string | undefined): Promise<Kiosk> {
  const id = credential?.split('.')[0];
  const kiosk = id ? await store.read((tx) => tx.kiosks.get(id)) : null;
  if (kiosk && credential) {
    const given = Buffer.from(sha256Hex(Buffer.from(credential)), 'hex');
    if (timingSafeEqual(given, Buffer.from(kiosk.credentialSha256, 'hex'))) return kiosk;
  }
  throw new ServiceError('kiosk_unauthorized', 'the kiosk credential is missing or not valid');
}
