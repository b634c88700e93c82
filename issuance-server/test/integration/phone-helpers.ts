// Paired phones in the server tests: a phone as the web app acts (device key, software passkey)
// and the PC's side of pairing.
import { createPairingResponseSchema, passkeyApprovalChallenge, phonePairingSignedText, registrationOptionsResponseSchema } from '@cert/common';
import assert from 'node:assert/strict';
import { TestDevice, type Applicant, type TestServer } from './harness.ts';
import { SoftPasskey, type AuthenticatorQuirks } from './soft-authenticator.ts';

/** A phone as the web app acts: its device key, its passkey, its socket. */
export class TestPhone {
  readonly device = new TestDevice();
  passkey!: SoftPasskey;
  phoneId = '';

  constructor(private readonly server: TestServer) {}

  get origin(): string {
    return this.server.url.replace('127.0.0.1', 'localhost');
  }

  /** Claims a pairing secret (raw answer). */
  options(secret: string, label = 'テスト電話') {
    return this.server.http('POST', '/api/v1/phone/registration/options', { json: { secret, devicePublicKey: this.device.publicKeyBase64, label } });
  }

  /** Claims the secret and registers a passkey with it (raw answer of the registration). */
  async register(secret: string, quirks: AuthenticatorQuirks = {}) {
    const res = await this.options(secret);
    assert.equal(res.status, 200, res.text);
    const options = registrationOptionsResponseSchema.parse(res.json);
    assert.equal(options.options.rp.id, 'localhost');
    assert.equal((options.options as { authenticatorSelection?: { userVerification?: string } }).authenticatorSelection?.userVerification, 'required');
    this.passkey = new SoftPasskey(this.origin, 'localhost');
    const credential = this.passkey.register(options.options.challenge, quirks);
    const signature = this.device.sign(phonePairingSignedText(options.pairingId, options.options.challenge));
    const reg = await this.server.http('POST', '/api/v1/phone/registration', { json: { pairingId: options.pairingId, secret, credential, signature } });
    if (reg.status === 201) this.phoneId = reg.json.phoneId as string;
    return reg;
  }

  /** The approval message with a passkey assertion over `challenge` (by default the one bound to the request). */
  approval(requestId: string, quirks: AuthenticatorQuirks = {}, challenge = passkeyApprovalChallenge(requestId)): Record<string, unknown> {
    return { ...this.device.response(requestId, true), assertion: this.passkey.assert(challenge, quirks) };
  }
}

/** Starts a pairing from the applicant's session; returns its id and the secret from the URL's fragment. */
export async function startPairing(server: TestServer, who: Applicant): Promise<{ pairingId: string; secret: string; url: URL }> {
  const res = await server.http('POST', '/api/v1/phones/pairings', { bearer: who.token });
  assert.equal(res.status, 201, res.text);
  const body = createPairingResponseSchema.parse(res.json);
  const url = new URL(body.url);
  const secret = new URLSearchParams(url.hash.slice(1)).get('pair')!;
  assert.ok(Buffer.from(secret, 'base64url').length >= 16, 'the secret has at least 128 bits');
  assert.ok(Date.parse(body.expiresAt) - Date.now() <= 5 * 60_000 + 1000, 'valid at most 5 minutes');
  return { pairingId: body.pairingId, secret, url };
}

/** A fully paired phone of `who` (registered and confirmed on the PC). */
export async function pairPhone(server: TestServer, who: Applicant): Promise<TestPhone> {
  const p = new TestPhone(server);
  const { pairingId, secret } = await startPairing(server, who);
  const reg = await p.register(secret);
  assert.equal(reg.status, 201, reg.text);
  const confirmed = await server.http('POST', `/api/v1/phones/pairings/${pairingId}/confirm`, { bearer: who.token });
  assert.equal(confirmed.status, 200, confirmed.text);
  return p;
}
