import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { createHash, webcrypto } from 'node:crypto';
import { ServiceError } from './service-error.ts';

pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] }));

const KEY_USAGE_OID = '2.5.29.15';
const BASIC_CONSTRAINTS_OID = '2.5.29.19';
const CERTIFICATE_POLICIES_OID = '2.5.29.32';
/** JPKI signature-certificate policy (jpki-card.md §7.2); such a certificate never logs in. */
const JPKI_SIGN_POLICY_OID = '1.2.392.200149.8.5.1.1.20';
const DIGITAL_SIGNATURE_BIT = 0x80;
const NON_REPUDIATION_BIT = 0x40;

/** Lowercase hex of a serial number without leading zeros, as stored for CRL lookups. */
export function normalizeSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

/** SHA-256 of bytes as lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Decodes PEM (the first block of the given label) or returns DER unchanged. */
export function pemOrDer(bytes: Buffer, label: string): Buffer {
  const text = bytes.toString('latin1');
  const m = new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`).exec(text);
  if (m) return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  if (text.includes('-----BEGIN')) throw new Error(`expected a PEM block "${label}"`);
  return bytes;
}

/** Parses an X.509 certificate from DER; throws a plain Error on garbage. */
export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  try {
    return pkijs.Certificate.fromBER(der);
  } catch (e) {
    throw new Error(`not a DER X.509 certificate (${(e as Error).message})`, { cause: e });
  }
}

/** A distinguished name as readable text, e.g. `C=JP, O=JPKI-TEST, OU=...`. */
export function dnText(name: pkijs.RelativeDistinguishedNames): string {
  const short: Record<string, string> = { '2.5.4.6': 'C', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.3': 'CN', '2.5.4.7': 'L', '2.5.4.8': 'ST' };
  return name.typesAndValues.map((tv) => `${short[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`).join(', ');
}

/** The serial number of a certificate, normalised. */
export function certificateSerial(cert: pkijs.Certificate): string {
  return normalizeSerial(Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex'));
}

/** DER bytes of a parsed certificate. */
export function certificateDer(cert: pkijs.Certificate): Buffer {
  return Buffer.from(cert.toSchema().toBER(false));
}

/** A certificate field that is present but not what its type promises (e.g. keyUsage that is no BIT STRING). */
class MalformedField extends Error {}

function extension<T>(cert: pkijs.Certificate, oid: string, outer: abstract new (...args: never[]) => unknown, isValid: (v: unknown) => v is T): T | null {
  const ext = cert.extensions?.find((e) => e.extnID === oid);
  if (!ext) return null;
  // pkijs fills in defaults when the bytes do not match the type (a basicConstraints that is an
  // INTEGER reads as "not a CA"), so the outer ASN.1 type is checked on the raw value first.
  const raw = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView);
  if (raw.offset === -1 || !(raw.result instanceof outer) || !isValid(ext.parsedValue)) throw new MalformedField(`extension ${oid} is malformed`);
  return ext.parsedValue;
}

const isBitString = (v: unknown): v is asn1js.BitString => v instanceof asn1js.BitString;
const isBasicConstraints = (v: unknown): v is pkijs.BasicConstraints => v instanceof pkijs.BasicConstraints;
const isPolicies = (v: unknown): v is pkijs.CertificatePolicies => v instanceof pkijs.CertificatePolicies && Array.isArray(v.certificatePolicies);

/** Why a certificate cannot serve for JPKI user authentication, or null when it can; malformed fields are a reason too. */
export function notForAuthenticationReason(cert: pkijs.Certificate): string | null {
  try {
    const keyUsage = extension(cert, KEY_USAGE_OID, asn1js.BitString, isBitString);
    const usage = keyUsage ? (keyUsage.valueBlock.valueHexView[0] ?? 0) : null;
    if (usage !== null && (usage & DIGITAL_SIGNATURE_BIT) === 0) return 'key usage lacks digitalSignature';
    if (usage !== null && (usage & NON_REPUDIATION_BIT) !== 0) return 'key usage marks a signature (署名用) certificate';
    if (extension(cert, BASIC_CONSTRAINTS_OID, asn1js.Sequence, isBasicConstraints)?.cA) return 'a CA certificate cannot log in';
    const policies = extension(cert, CERTIFICATE_POLICIES_OID, asn1js.Sequence, isPolicies);
    if (policies?.certificatePolicies.some((p) => p.policyIdentifier === JPKI_SIGN_POLICY_OID)) return 'signature-certificate policy';
    return null;
  } catch (e) {
    if (e instanceof MalformedField) return e.message;
    throw e;
  }
}

function checkValidity(notBefore: Date, notAfter: Date, now: Date): void {
  if (now < notBefore) throw new ServiceError('certificate_expired', `certificate is not valid before ${notBefore.toISOString()}`);
  if (now > notAfter) throw new ServiceError('certificate_expired', `certificate expired at ${notAfter.toISOString()}`);
}

/** True when one of the anchors issued and signed the certificate (names and signature only, no dates). */
async function signedByAnchor(cert: pkijs.Certificate, anchors: ParsedAnchor[]): Promise<boolean> {
  for (const a of anchors) {
    if (!cert.issuer.isEqual(a.cert.subject)) continue;
    if (await cert.verify(a.cert).catch(() => false)) return true;
  }
  return false;
}

/** A trust anchor parsed once. */
interface ParsedAnchor {
  sha256: string;
  cert: pkijs.Certificate;
}

/** Result of a successful check: who issued it, for the revocation lookup and card link. */
export interface VerifiedCertificate {
  sha256: string;
  serial: string;
  subject: string;
  anchorSha256: string;
  notBefore: Date;
  notAfter: Date;
}

/** Where the verifier reads trust from (the database, through the caller). */
export interface TrustSource {
  anchors(): Promise<{ sha256: string; der: Buffer }[]>;
  isRevoked(anchorSha256: string, serial: string): Promise<boolean>;
  /** Changes whenever anchors or CRLs change; remembered chains are valid for one generation. */
  generation(): Promise<number>;
}

const CHAIN_CACHE_SIZE = 50_000;

/**
 * Checks JPKI authentication certificates against configured anchors and CRLs (DESIGN.md,
 * Security rules). Chain building is most of a login's cost, so a verified chain is remembered
 * until the trust anchors or CRLs change; validity dates are still checked on every use.
 */
export class CertificateVerifier {
  private parsed: ParsedAnchor[] = [];
  private parsedKey = '';
  private readonly verified = new Map<string, { generation: number; result: VerifiedCertificate }>();

  constructor(private readonly trust: TrustSource) {}

  private async currentAnchors(): Promise<ParsedAnchor[]> {
    const list = await this.trust.anchors();
    const key = list.map((a) => a.sha256).join(',');
    if (key !== this.parsedKey) {
      this.parsed = list.map((a) => ({ sha256: a.sha256, cert: parseCertificate(a.der) }));
      this.parsedKey = key;
    }
    return this.parsed;
  }

  /** Usage, chain, validity and revocation, each failing with its contract code. */
  async verify(der: Uint8Array, now: Date): Promise<VerifiedCertificate> {
    const sha256 = sha256Hex(der);
    const generation = await this.trust.generation();
    const known = this.verified.get(sha256);
    if (known?.generation === generation) {
      checkValidity(known.result.notBefore, known.result.notAfter, now);
      return known.result;
    }
    const result = await this.verifyUncached(der, now);
    if (this.verified.size >= CHAIN_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(sha256, { generation, result });
    return result;
  }

  private async verifyUncached(der: Uint8Array, now: Date): Promise<VerifiedCertificate> {
    let cert: pkijs.Certificate;
    try {
      cert = parseCertificate(der);
    } catch (e) {
      throw new ServiceError('invalid_request', (e as Error).message);
    }
    const usageProblem = notForAuthenticationReason(cert);
    if (usageProblem) throw new ServiceError('certificate_not_for_authentication', `certificate is not for user authentication: ${usageProblem}`);

    const notBefore = cert.notBefore.value;
    const notAfter = cert.notAfter.value;
    // Validate the chain at a moment inside the leaf's validity, so that an expired but
    // genuine certificate is reported as expired rather than untrusted.
    const checkDate = new Date(Math.min(Math.max(now.getTime(), notBefore.getTime()), notAfter.getTime()));
    const anchors = await this.currentAnchors();
    const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: anchors.map((a) => a.cert), certs: [cert], checkDate });
    const chain = await engine.verify().catch((e: unknown) => ({ result: false, resultMessage: String(e), certificatePath: undefined }));
    const root = chain.certificatePath?.at(-1);
    const anchor = root && anchors.find((a) => a.sha256 === sha256Hex(certificateDer(root)));
    const outsideValidity = now < notBefore || now > notAfter;
    if (!chain.result || !anchor) {
      // A long-expired leaf can predate its (renewed) root's notBefore, so no single checkDate
      // suits both; a leaf a configured anchor really signed is still "expired", not "untrusted".
      if (!outsideValidity || !(await signedByAnchor(cert, anchors))) {
        throw new ServiceError('certificate_untrusted', 'certificate does not chain to a configured JPKI trust anchor');
      }
    }
    checkValidity(notBefore, notAfter, now);
    if (!anchor) throw new ServiceError('certificate_untrusted', 'certificate does not chain to a configured JPKI trust anchor');

    const serial = certificateSerial(cert);
    if (await this.trust.isRevoked(anchor.sha256, serial)) throw new ServiceError('certificate_revoked', 'certificate has been revoked');
    return { sha256: sha256Hex(der), serial, subject: dnText(cert.subject), anchorSha256: anchor.sha256, notBefore, notAfter };
  }

  /** Parses a CRL and checks it was signed by one of the anchors. */
  async parseCrl(der: Uint8Array): Promise<{ anchorSha256: string; thisUpdate: Date; nextUpdate: Date | null; serials: string[] }> {
    let crl: pkijs.CertificateRevocationList;
    try {
      crl = pkijs.CertificateRevocationList.fromBER(der);
    } catch (e) {
      throw new Error(`not a DER X.509 CRL (${(e as Error).message})`, { cause: e });
    }
    for (const a of await this.currentAnchors()) {
      if (!crl.issuer.isEqual(a.cert.subject)) continue;
      if (await crl.verify({ issuerCertificate: a.cert }).catch(() => false)) {
        return {
          anchorSha256: a.sha256,
          thisUpdate: crl.thisUpdate.value,
          nextUpdate: crl.nextUpdate?.value ?? null,
          serials: (crl.revokedCertificates ?? []).map((r) => normalizeSerial(Buffer.from(r.userCertificate.valueBlock.valueHexView).toString('hex'))),
        };
      }
    }
    throw new Error(`CRL issuer ${dnText(crl.issuer)} is not a configured trust anchor, or its signature does not verify`);
  }
}
