import { loginSignedText, type ChallengeResponse, type LoginRequest, type LoginResponse } from '@cert/common';
import { constants, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { Session } from '../store/session-store.ts';
import type { Store, Tx } from '../store/store.ts';
import { CertificateVerifier, sha256Hex } from './certificate-verifier.ts';
import { parseDeviceKey, type DeviceKey } from './device-keys.ts';
import { takeTokens } from './rate-limiter.ts';
import { ServiceError } from './service-error.ts';

/** Challenge-response login with the card's JPKI authentication key, and applicant sessions. */
export class AuthService {
  readonly verifier: CertificateVerifier;

  constructor(
    private readonly store: Store,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    this.verifier = new CertificateVerifier({
      anchors: () => store.read((tx) => tx.trust.anchors()),
      isRevoked: (anchor, serial) => store.read((tx) => tx.trust.isRevoked(anchor, serial)),
      generation: () => store.read((tx) => tx.trust.generation()),
    });
  }

  /** Takes a token from the client address's and the global login buckets; a refusal is counted, not thrown, so that it commits. */
  private async limited(tx: Tx, clientAddress: string, now: number): Promise<ServiceError | null> {
    // The address is hashed: a bucket key ends up in the audit log, and addresses are personal data.
    const wait = await takeTokens(
      tx,
      [
        { key: `auth:${sha256Hex(Buffer.from(clientAddress)).slice(0, 16)}`, limit: this.config.authAddressRateLimit },
        { key: 'auth:*', limit: this.config.authGlobalRateLimit },
      ],
      now,
    );
    return wait > 0 ? new ServiceError('rate_limited', 'too many login attempts; try again later', { 'Retry-After': String(Math.ceil(wait / 1000)) }) : null;
  }

  /** Issues a single-use, short-lived login challenge. */
  async challenge(clientAddress: string): Promise<ChallengeResponse> {
    const now = this.config.clock();
    const id = randomUUID();
    const nonce = randomBytes(32).toString('base64');
    const expiresAt = now + this.config.challengeTtlMs;
    const refused = await this.store.write(async (tx) => {
      const limit = await this.limited(tx, clientAddress, now);
      if (!limit) await tx.sessions.addChallenge(id, nonce, expiresAt);
      return limit;
    });
    if (refused) throw refused;
    return { challengeId: id, nonce, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Verifies a card-signed login and opens a session bound to the device key. */
  async login(req: LoginRequest, clientAddress: string): Promise<LoginResponse> {
    const now = this.config.clock();
    const consumed = await this.store.write(async (tx) => {
      const limit = await this.limited(tx, clientAddress, now);
      return limit ?? (await tx.sessions.consumeChallenge(req.challengeId, now));
    });
    if (consumed instanceof ServiceError) throw consumed;
    if (consumed === null) throw new ServiceError('challenge_invalid', 'the challenge is unknown, already used or expired');
    const device = parseDeviceKey(req.devicePublicKey);
    const certDer = Buffer.from(req.certificate, 'base64');
    try {
      return await this.loginWithChallenge(req, consumed, certDer, device, now);
    } catch (e) {
      if (e instanceof ServiceError) {
        await this.store.write(async (tx) => tx.audit({ actor: 'applicant', event: 'login.failed', subject: sha256Hex(certDer), details: { code: e.code } }, now));
      }
      throw e;
    }
  }

  private async loginWithChallenge(req: LoginRequest, nonce: string, certDer: Buffer, device: DeviceKey, now: number): Promise<LoginResponse> {
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(certDer);
    } catch {
      throw new ServiceError('invalid_request', 'certificate is not a DER X.509 certificate');
    }
    // Node also accepts PEM (and ignores trailing bytes); the contract says DER, and the chain check parses DER only.
    if (!x509.raw.equals(certDer)) throw new ServiceError('invalid_request', 'certificate must be exactly one DER X.509 certificate');
    if (x509.publicKey.asymmetricKeyType !== 'rsa') throw new ServiceError('certificate_not_for_authentication', 'a JPKI authentication certificate has an RSA key');
    const signature = Buffer.from(req.signature, 'base64');
    let ok = false;
    try {
      ok = verify('sha256', loginSignedText(req.challengeId, nonce), { key: x509.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    } catch {
      // A signature of the wrong length for the key throws instead of answering false.
    }
    if (!ok) throw new ServiceError('signature_invalid', 'the login signature does not verify with the certificate key');

    const verified = await this.verifier.verify(certDer, new Date(now));
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.config.sessionTtlMs;
    const resident = await this.store.write(async (tx) => {
      const residentId = await tx.trust.residentForCertificate(verified.sha256);
      const r = residentId ? await tx.residents.get(residentId) : null;
      // A 本籍地 user (non_resident) logs in for their 戸籍; the rules refuse them resident certificates.
      if (!r || (r.status !== 'active' && r.status !== 'non_resident')) return null;
      await tx.sessions.registerDevice(device.sha256, device.der, now);
      const card = { anchorSha256: verified.anchorSha256, serial: verified.serial, notAfter: verified.notAfter.getTime() };
      await tx.sessions.addSession({ tokenSha256: sha256Hex(Buffer.from(token)), residentId: r.id, deviceKeySha256: device.sha256, expiresAt, card }, now);
      tx.audit({ actor: `resident:${r.id}`, event: 'login', subject: r.id, details: { certificate: verified.sha256, device: device.sha256 } }, now);
      return r;
    });
    if (!resident) throw new ServiceError('resident_not_found', 'no active resident or 本籍地 user of this municipality is linked to this card');
    this.log.info({ residentId: resident.id, device: device.sha256.slice(0, 16) }, 'login');
    return { sessionToken: token, expiresAt: new Date(expiresAt).toISOString(), resident: { displayName: resident.name } };
  }

  /** The session behind a bearer token, or a `session_invalid` error. */
  async session(token: string | undefined): Promise<Session> {
    const now = this.config.clock();
    const s = token ? await this.store.read((tx) => tx.sessions.session(sha256Hex(Buffer.from(token)), now)) : null;
    if (!s) throw new ServiceError('session_invalid', 'the session token is missing, unknown or expired; log in again');
    return s;
  }

  /** True when a login has registered this device key. */
  isDeviceKnown(keySha256: string): Promise<boolean> {
    return this.store.read((tx) => tx.sessions.isDeviceKnown(keySha256));
  }
}
