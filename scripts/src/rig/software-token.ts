import { constants, createPrivateKey, privateEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AuthenticationToken } from 'desktop-applicant';
import type { PkiCredential } from '../pki/test-pki.ts';

/** A JPKI authentication "card" made of key files, for server-level tests and the server demo. */
export function softwareToken(cred: PkiCredential): AuthenticationToken {
  const pem = readFileSync(cred.certPath, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const key = createPrivateKey(readFileSync(cred.keyPath));
  return {
    certificate: async () => der,
    // PKCS#1 v1.5 type-1 padding over the DigestInfo is exactly what the card's COMPUTE DIGITAL SIGNATURE does.
    signDigestInfo: async (digestInfo) => privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo),
  };
}
