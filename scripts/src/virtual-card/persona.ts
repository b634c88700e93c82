// The identity a virtual My Number card carries: keys, certificates, PINs. Loaded from the test PKI's PEM files.
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PkiCredential, TestPkiManifest } from '../pki/test-pki.ts';

/** One JPKI key pair slot of the card. */
export interface PersonaKey {
  /** End-entity certificate, DER (EF `000A` or `0001`). */
  certDer: Uint8Array;
  /** RSA private key (key EF `0017` or `001A`). */
  key: KeyObject;
  /** CA certificate, DER (EF `000B` or `0002`). */
  caCertDer: Uint8Array;
}

export interface CardPersona {
  auth: PersonaKey;
  /** Absent for cards without a signature certificate (e.g. holders under 15). */
  sign?: PersonaKey;
  /** Auth PIN (4 digits) as issued; a changed value lives in the card state. */
  authPin: string;
  /** Signature password (6–16 of A–Z0–9) as issued. */
  signPassword: string;
  /** Shown in the token info EF; defaults to a value derived from the auth certificate. */
  serialNumber?: string;
  /** Free text for logs. */
  label?: string;
}

export const DEFAULT_AUTH_PIN = '1234';
export const DEFAULT_SIGN_PASSWORD = 'ABC123';

/** Reads a PEM (or DER) certificate file as DER. */
export function readCertificateDer(path: string): Uint8Array {
  const raw = readFileSync(path);
  // X509Certificate accepts PEM and DER; .raw is the DER.
  return new Uint8Array(new X509Certificate(raw).raw);
}

/** Reads a private key (PKCS#8 or PKCS#1 PEM) and checks that it is RSA. */
export function readRsaKey(path: string): KeyObject {
  const key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`${path}: the card holds RSA keys, this is ${key.asymmetricKeyType}`);
  return key;
}

function checkPair(what: string, k: PersonaKey): void {
  const cert = new X509Certificate(k.certDer);
  if (!cert.checkPrivateKey(k.key)) throw new Error(`${what}: the private key does not match the certificate`);
  const bits = k.key.asymmetricKeyDetails?.modulusLength;
  if (bits !== 2048) throw new Error(`${what}: the card's keys are RSA-2048, this one has ${bits} bits`);
}

export interface PersonaFiles {
  authCert: string;
  authKey: string;
  authCa: string;
  signCert?: string;
  signKey?: string;
  signCa?: string;
  pin?: string;
  signPassword?: string;
  label?: string;
}

/** Builds a persona from PEM files, as the CLI does. The signature trio is all-or-nothing. */
export function personaFromFiles(files: PersonaFiles): CardPersona {
  const auth: PersonaKey = { certDer: readCertificateDer(files.authCert), key: readRsaKey(files.authKey), caCertDer: readCertificateDer(files.authCa) };
  checkPair('auth', auth);
  const signParts = [files.signCert, files.signKey, files.signCa].filter((x) => x !== undefined).length;
  if (signParts !== 0 && signParts !== 3) throw new Error('give all of --sign-cert, --sign-key and --sign-ca, or none');
  let sign: PersonaKey | undefined;
  if (signParts === 3) {
    sign = { certDer: readCertificateDer(files.signCert!), key: readRsaKey(files.signKey!), caCertDer: readCertificateDer(files.signCa!) };
    checkPair('sign', sign);
  }
  return {
    auth, ...(sign ? { sign } : {}),
    authPin: files.pin ?? DEFAULT_AUTH_PIN,
    signPassword: files.signPassword ?? DEFAULT_SIGN_PASSWORD,
    ...(files.label ? { label: files.label } : {}),
  };
}

export interface PersonaFromPkiOptions {
  pin?: string;
  signPassword?: string;
  /** Put the signature certificate and key on the card (default true). */
  withSign?: boolean;
  /** Use another auth credential (e.g. `manifest.special.revoked`) instead of the resident's own. */
  authCredential?: PkiCredential;
}

/** The card of a resident of the test PKI (`ensureTestPki()`); auth chains to `authRoot`, sign to `signRoot`. */
export function personaFromPki(manifest: TestPkiManifest, residentId: string, opts: PersonaFromPkiOptions = {}): CardPersona {
  const resident = manifest.residents[residentId];
  if (!resident && !opts.authCredential) throw new Error(`no resident ${residentId} in the test PKI`);
  const authCred = opts.authCredential ?? resident!.auth;
  const withSign = (opts.withSign ?? true) && resident !== undefined;
  return personaFromFiles({
    authCert: authCred.certPath,
    authKey: authCred.keyPath,
    authCa: manifest.authRoot.certPath,
    ...(withSign ? { signCert: resident!.sign.certPath, signKey: resident!.sign.keyPath, signCa: manifest.signRoot.certPath } : {}),
    ...(opts.pin !== undefined ? { pin: opts.pin } : {}),
    ...(opts.signPassword !== undefined ? { signPassword: opts.signPassword } : {}),
    label: residentId,
  });
}

/** A stable identifier of the persona (SHA-256 of the auth certificate), used to tie a state file to its card. */
export function personaFingerprint(p: CardPersona): string {
  return createHash('sha256').update(p.auth.certDer).digest('hex');
}
