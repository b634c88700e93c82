import {
  applicationListSchema,
  applicationSchema,
  cancelApplicationResponseSchema,
  catalogResponseSchema,
  challengeResponseSchema,
  createPairingResponseSchema,
  loginResponseSchema,
  pairedPhonesResponseSchema,
  pairingStateSchema,
  phoneActionResponseSchema,
  loginSignedText,
  sha256DigestInfo,
  subjectsResponseSchema,
  type Application,
  type CatalogResponse,
  type CreateApplicationRequest,
  type CreatePairingResponse,
  type LoginResponse,
  type PairedPhone,
  type PairingState,
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

  /** Starts pairing a phone: a single-use secret (in the URL's fragment) for the phone to open. */
  startPairing(): Promise<CreatePairingResponse> {
    return callJson(this.endpoint, { method: 'POST', path: '/api/v1/phones/pairings', bearer: this.bearer() }, createPairingResponseSchema);
  }

  /** Where a pairing stands; `phone` (label and check code) once a phone registered. */
  pairing(pairingId: string): Promise<PairingState> {
    return callJson(this.endpoint, { method: 'GET', path: `/api/v1/phones/pairings/${encodeURIComponent(pairingId)}`, bearer: this.bearer() }, pairingStateSchema);
  }

  /** The resident confirms the phone showing the same code: it becomes trusted. */
  confirmPairing(pairingId: string): Promise<PairingState> {
    return callJson(this.endpoint, { method: 'POST', path: `/api/v1/phones/pairings/${encodeURIComponent(pairingId)}/confirm`, bearer: this.bearer() }, pairingStateSchema);
  }

  /** Cancels a pairing (and drops a phone that registered with it). */
  cancelPairing(pairingId: string): Promise<PairingState> {
    return callJson(this.endpoint, { method: 'DELETE', path: `/api/v1/phones/pairings/${encodeURIComponent(pairingId)}`, bearer: this.bearer() }, pairingStateSchema);
  }

  /** The phones paired with this PC for the logged-in resident. */
  async phones(): Promise<PairedPhone[]> {
    return (await callJson(this.endpoint, { method: 'GET', path: '/api/v1/phones', bearer: this.bearer() }, pairedPhonesResponseSchema)).phones;
  }

  /** Renames a phone. */
  async renamePhone(phoneId: string, label: string): Promise<void> {
    await callJson(this.endpoint, { method: 'PATCH', path: `/api/v1/phones/${encodeURIComponent(phoneId)}`, body: { label }, bearer: this.bearer() }, phoneActionResponseSchema);
  }

  /** Removes a phone: it answers nothing from now on. */
  async removePhone(phoneId: string): Promise<void> {
    await callJson(this.endpoint, { method: 'DELETE', path: `/api/v1/phones/${encodeURIComponent(phoneId)}`, bearer: this.bearer() }, phoneActionResponseSchema);
  }
}
