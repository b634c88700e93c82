import {
  applicationListSchema,
  applicationSchema,
  cancelApplicationResponseSchema,
  catalogResponseSchema,
  challengeResponseSchema,
  loginResponseSchema,
  loginSignedText,
  sha256DigestInfo,
  subjectsResponseSchema,
  type Application,
  type CatalogResponse,
  type CreateApplicationRequest,
  type LoginResponse,
  type SubjectsResponse,
} from '@cert/common';
import { callJson, type ServerEndpoint } from '@cert/common/node';
import { createHash } from 'node:crypto';
import type { AuthenticationToken } from './authentication-token.ts';
import type { DeviceKey } from './device-key.ts';

/** The applicant's HTTP client: card login, catalog, subjects, apply, list, cancel. */
export class ApplicantApi {
  private session: LoginResponse | null = null;

  constructor(readonly endpoint: ServerEndpoint) {}

  /** The current session, if logged in. */
  get currentSession(): LoginResponse | null {
    return this.session;
  }

  /** Challenge → card signature → login; registers the device key with the session. */
  async login(token: AuthenticationToken, device: DeviceKey): Promise<LoginResponse> {
    // A second challenge costs nothing but an unused row: safe to ask another node again.
    const challenge = await callJson(this.endpoint, { method: 'POST', path: '/api/v1/auth/challenge', idempotent: true }, challengeResponseSchema);
    const hash = createHash('sha256').update(loginSignedText(challenge.challengeId, challenge.nonce)).digest();
    const signature = await token.signDigestInfo(sha256DigestInfo(hash));
    const certificate = await token.certificate();
    this.session = await callJson(
      this.endpoint,
      {
        method: 'POST',
        path: '/api/v1/auth/login',
        body: { challengeId: challenge.challengeId, certificate: certificate.toString('base64'), signature: signature.toString('base64'), devicePublicKey: device.publicKeyBase64 },
      },
      loginResponseSchema,
    );
    return this.session;
  }

  /** Forgets the session (the server lets it expire). */
  logout(): void {
    this.session = null;
  }

  private bearer(): string {
    if (!this.session) throw new Error('not logged in');
    return this.session.sessionToken;
  }

  /** The municipality's certificate catalog. */
  catalog(): Promise<CatalogResponse> {
    return callJson(this.endpoint, { method: 'GET', path: '/api/v1/catalog' }, catalogResponseSchema);
  }

  /** Whom the logged-in resident may put on a certificate (household, 戸籍 persons) and what they can ask for. */
  subjects(): Promise<SubjectsResponse> {
    return callJson(this.endpoint, { method: 'GET', path: '/api/v1/applicant/subjects', bearer: this.bearer() }, subjectsResponseSchema);
  }

  /** Applies for a certificate; the answer carries the receipt number. */
  apply(req: CreateApplicationRequest): Promise<Application> {
    return callJson(this.endpoint, { method: 'POST', path: '/api/v1/applications', body: req, bearer: this.bearer() }, applicationSchema);
  }

  /** The resident's applications. */
  async list(): Promise<Application[]> {
    return (await callJson(this.endpoint, { method: 'GET', path: '/api/v1/applications', bearer: this.bearer() }, applicationListSchema)).applications;
  }

  /** Cancels an application. */
  async cancel(applicationId: string): Promise<void> {
    await callJson(this.endpoint, { method: 'DELETE', path: `/api/v1/applications/${encodeURIComponent(applicationId)}`, bearer: this.bearer() }, cancelApplicationResponseSchema);
  }
}
