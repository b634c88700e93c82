import { loginSignedText, type ChallengeResponse, type LoginRequest, type LoginResponse } from '@cert/common';
import { constants, randomBytes, randomUUID, verify, X509Certificate } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { AuditLog } from '../store/audit-log.ts';
import type { ResidentStore } from '../store/resident-store.ts';
import type { Session, SessionStore } from '../store/session-store.ts';
import type { TrustStore } from '../store/trust-store.ts';
import { CertificateVerifier, sha256Hex } from './certificate-verifier.ts';
import { parseDeviceKey } from './device-keys.ts';
import { ServiceError } from './service-error.ts';

/** Challenge-response login with the card's JPKI authentication key, and applicant sessions. */
export class AuthService {
  readonly verifier: CertificateVerifier;

  constructor(
    private readonly db: Database,
    private readonly sessions: SessionStore,
    private readonly trust: TrustStore,
    private readonly residents: ResidentStore,
    private readonly audit: AuditLog,
    private readonly config: ServerConfig,
    private readonly log: Logger,
  ) {
    this.verifier = new CertificateVerifier(
      () => trust.anchors(),
      (anchor, serial) => trust.isRevoked(anchor, serial),
    );
  }

  /** Issues a single-use, short-lived login challenge. */
  challenge(now: number = Date.now()): ChallengeResponse {
    const id = randomUUID();
    const nonce = randomBytes(32).toString('base64');
    const expiresAt = now + this.config.challengeTtlMs;
    this.sessions.addChallenge(id, nonce, expiresAt);
    return { challengeId: id, nonce, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Verifies a card-signed login and opens a session bound to the device key. */
  async login(req: LoginRequest, now: number = Date.now()): Promise<LoginResponse> {
    const nonce = this.db.transaction(() => this.sessions.consumeChallenge(req.challengeId, now))();
    if (nonce === null) throw new ServiceError('challenge_invalid', 'the challenge is unknown, already used or expired');
    const device = parseDeviceKey(req.devicePublicKey);
    const certDer = Buffer.from(req.certificate, 'base64');
    try {
      return await this.loginWithChallenge(req, nonce, certDer, device, now);
    } catch (e) {
      if (e instanceof ServiceError) {
        this.db.transaction(() =>
          this.audit.append({ actor: 'applicant', event: 'login.failed', subject: sha256Hex(certDer), details: { code: e.code } }, now),
        )();
      }
      throw e;
    }
  }

  private async loginWithChallenge(
    req: LoginRequest,
    nonce: string,
    certDer: Buffer,
    device: ReturnType<typeof parseDeviceKey>,
    now: number,
  ): Promise<LoginResponse> {
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
    const ok = verify('sha256', loginSignedText(req.challengeId, nonce), { key: x509.publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (!ok) throw new ServiceError('signature_invalid', 'the login signature does not verify with the certificate key');

    const verified = await this.verifier.verify(certDer, new Date(now));
    const residentId = this.trust.residentForCertificate(verified.sha256);
    const resident = residentId ? this.residents.get(residentId) : null;
    if (!resident || resident.status !== 'active') {
      throw new ServiceError('resident_not_found', 'no active resident of this municipality is linked to this card');
    }

    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.config.sessionTtlMs;
    this.db.transaction(() => {
      this.sessions.registerDevice(device.sha256, device.der, now);
      this.sessions.addSession(sha256Hex(Buffer.from(token)), { residentId: resident.id, deviceKeySha256: device.sha256, expiresAt }, now);
      this.audit.append({ actor: `resident:${resident.id}`, event: 'login', subject: resident.id, details: { certificate: verified.sha256, device: device.sha256 } }, now);
    })();
    this.log.info({ residentId: resident.id, device: device.sha256.slice(0, 16) }, 'login');
    return { sessionToken: token, expiresAt: new Date(expiresAt).toISOString(), resident: { displayName: resident.name } };
  }

  /** The session behind a bearer token, or a `session_invalid` error. */
  session(token: string | undefined, now: number = Date.now()): Session {
    const s = token ? this.sessions.session(sha256Hex(Buffer.from(token)), now) : null;
    if (!s) throw new ServiceError('session_invalid', 'the session token is missing, unknown or expired; log in again');
    return s;
  }
}
