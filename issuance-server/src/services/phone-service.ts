// Phones paired from a card-authenticated session (DESIGN.md, Security rules; README "Paired
// phones"). The binding rule: a phone paired from a session of resident R on the PC whose device
// key is D receives and may answer the print confirmations of exactly the applications of R made
// with D (before or after the pairing), and shows R's open receipts of D. It is trusted only once
// the resident confirmed it on that PC, until its expiry, its removal from the PC, or the moment
// the card certificate of the pairing session is revoked or expires.
import {
  passkeyApprovalChallenge,
  phoneKeyCode,
  phonePairingSignedText,
  type Assertion,
  type CreatePairingResponse,
  type PairedPhone,
  type PairingState,
  type PhoneStateMessage,
  type PushSubscriptionJson,
  type RegistrationOptionsRequest,
  type RegistrationOptionsResponse,
  type RegistrationRequest,
  type RegistrationResponse,
} from '@cert/common';
import { generateRegistrationOptions, verifyAuthenticationResponse, verifyRegistrationResponse } from '@simplewebauthn/server';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { ApplicationRecord } from '../store/application-store.ts';
import type { ChangeFeed } from '../store/change-feed.ts';
import type { PairingRecord, PhoneRecord } from '../store/phone-store.ts';
import type { Session } from '../store/session-store.ts';
import type { Store, Tx } from '../store/store.ts';
import { sha256Hex } from './certificate-verifier.ts';
import { parseDeviceKey, verifyDeviceSignature } from './device-keys.ts';
import { isLoopbackHost } from './loopback.ts';
import { pushEndpointAllowed, type PushService } from './push-service.ts';
import { takeTokens } from './rate-limiter.ts';
import { ServiceError } from './service-error.ts';

/** A phone whose trust changed (confirmed, renamed, removed, expired): its sockets are told or closed. */
export type { PhoneChanged } from '../store/change-feed.ts';

/** Why a phone's key is not (or no longer) one the server answers. */
export type PhoneRefusal = 'device_unknown' | 'device_removed';

/** A phone that may use the socket: trusted (`active`), or registered and waiting for the PC's confirmation. */
export interface UsablePhone {
  phone: PhoneRecord;
  state: 'awaiting_confirmation' | 'active';
}

const OPEN_RECEIPT_STATUSES = new Set(['submitted', 'in_issuance']);
const iso = (ms: number) => new Date(ms).toISOString();
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** Pairing, registration, the PC's list of phones, and the checks behind a phone's answers. */
export class PhoneService {
  /**
   * Committed changes to phones (`phone`), this node's and the other nodes' alike, and `resync`
   * when other nodes' may have been missed: the applicant socket listens here.
   */
  get changes(): ChangeFeed {
    return this.store.changes;
  }

  constructor(
    private readonly store: Store,
    private readonly config: ServerConfig,
    private readonly baseUrl: () => string,
    readonly push: PushService,
    private readonly log: Logger,
  ) {}

  /**
   * The web app's origin and WebAuthn RP ID: the public URL's, where a loopback IP address is
   * spelled `localhost` (WebAuthn takes no IP address as RP ID).
   */
  webOrigin(): { origin: string; rpId: string } {
    const url = new URL(this.baseUrl());
    if (isLoopbackHost(url.hostname) && url.hostname !== 'localhost') url.hostname = 'localhost';
    return { origin: url.origin, rpId: url.hostname };
  }

  /** Inside the change's transaction: the store tells this node's sockets after the commit, and the other nodes by id. */
  private announce(tx: Tx, p: PhoneRecord): void {
    tx.announce({ kind: 'phone', phoneId: p.id, deviceKeySha256: p.deviceKeySha256 });
  }

  private async limit(tx: Tx, key: string, limit: ServerConfig['pairingRateLimit'], now: number): Promise<ServiceError | null> {
    const wait = await takeTokens(tx, [{ key, limit }], now);
    return wait > 0 ? new ServiceError('rate_limited', 'too many pairing attempts; try again later', { 'Retry-After': String(Math.ceil(wait / 1000)) }) : null;
  }

  private async cardRevoked(tx: Tx, card: PhoneRecord['card'], now: number): Promise<boolean> {
    return card.notAfter <= now || (await tx.trust.isRevoked(card.anchorSha256, card.serial));
  }

  // ——— the PC (a card-authenticated session) ———

  /** Issues a single-use pairing secret for this session's resident and PC; the secret travels only in the URL's fragment. */
  async createPairing(session: Session): Promise<CreatePairingResponse> {
    if (!session.card) throw new ServiceError('session_invalid', 'confirm your identity with the card again before pairing a phone');
    const card = session.card;
    const now = this.config.clock();
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = now + this.config.pairingTtlMs;
    const refused = await this.store.write(async (tx) => {
      const limited = await this.limit(tx, `pair:${session.residentId}`, this.config.pairingRateLimit, now);
      if (limited) return limited;
      if (await this.cardRevoked(tx, card, now)) return new ServiceError('certificate_revoked', 'the card certificate of this session is no longer valid');
      await tx.phones.addPairing({
        id,
        secretSha256: sha256Hex(Buffer.from(secret)),
        residentId: session.residentId,
        pcDeviceKeySha256: session.deviceKeySha256,
        sessionTokenSha256: session.tokenSha256,
        card,
        createdAt: now,
        expiresAt,
      });
      tx.audit({ actor: `resident:${session.residentId}`, event: 'phone.pairing.start', subject: id, details: { pc: session.deviceKeySha256.slice(0, 16) } }, now);
      return null;
    });
    if (refused) throw refused;
    const url = new URL('/phone/', this.webOrigin().origin);
    url.hash = `pair=${secret}`;
    return { pairingId: id, url: url.href, expiresAt: iso(expiresAt) };
  }

  private async ownPairing(tx: Tx, session: Session, id: string, lock = false): Promise<PairingRecord> {
    const p = await tx.phones.pairing(id, lock);
    // Bound to the session that started it: another session (even the same resident's) sees nothing.
    if (!p || p.sessionTokenSha256 !== session.tokenSha256) throw new ServiceError('not_found', 'no such pairing in this session');
    return p;
  }

  private async pairingView(tx: Tx, p: PairingRecord, now: number): Promise<PairingState> {
    const expired = p.expiresAt <= now && p.status !== 'confirmed' && p.status !== 'cancelled';
    const status = expired ? 'expired' : p.status === 'open' || p.status === 'claimed' ? 'waiting' : p.status;
    const phone = p.phoneId ? await tx.phones.phone(p.phoneId) : null;
    return {
      pairingId: p.id,
      status,
      expiresAt: iso(p.expiresAt),
      ...(phone ? { phone: { phoneId: phone.id, label: phone.label, code: await phoneKeyCode(phone.publicKeyDer) } } : {}),
    };
  }

  /** Where a pairing of this session stands (the PC polls it). */
  async pairingState(session: Session, id: string): Promise<PairingState> {
    const now = this.config.clock();
    return this.store.read(async (tx) => this.pairingView(tx, await this.ownPairing(tx, session, id), now));
  }

  /** The resident confirms on the PC that the phone showing the same code is theirs: from now on it is trusted. */
  async confirmPairing(session: Session, id: string): Promise<PairingState> {
    const now = this.config.clock();
    return this.store.write(async (tx) => {
      const p = await this.ownPairing(tx, session, id, true);
      if (p.expiresAt <= now) throw new ServiceError('pairing_invalid', 'the pairing has expired; start again');
      if (p.status !== 'registered' || !p.phoneId) throw new ServiceError('invalid_state', `the pairing is ${p.status}, not waiting for confirmation`);
      if (await this.cardRevoked(tx, p.card, now)) throw new ServiceError('certificate_revoked', 'the card certificate of this session is no longer valid');
      if (!(await tx.phones.movePairing(p.id, 'registered', 'confirmed', now))) throw new ServiceError('invalid_state', 'the pairing changed meanwhile');
      if (!(await tx.phones.activate(p.phoneId, now, now + this.config.phoneValidityMs))) throw new ServiceError('invalid_state', 'the phone is no longer waiting');
      const phone = (await tx.phones.phone(p.phoneId))!;
      tx.audit({ actor: `resident:${p.residentId}`, event: 'phone.paired', subject: phone.id, details: { pairing: p.id, pc: p.pcDeviceKeySha256.slice(0, 16), expiresAt: iso(phone.expiresAt) } }, now);
      this.announce(tx, phone);
      return this.pairingView(tx, { ...p, status: 'confirmed' }, now);
    });
  }

  /** The resident cancels a pairing (the code did not match, or they changed their mind); a phone that registered with it is dropped. */
  async cancelPairing(session: Session, id: string): Promise<PairingState> {
    const now = this.config.clock();
    return this.store.write(async (tx) => {
      const p = await this.ownPairing(tx, session, id, true);
      if (p.status === 'confirmed' || p.status === 'cancelled') return this.pairingView(tx, p, now);
      await tx.phones.movePairing(p.id, p.status, 'cancelled', now);
      const phone = p.phoneId ? await tx.phones.phone(p.phoneId, true) : null;
      if (phone) {
        await tx.phones.remove(phone.id, now);
        this.announce(tx, phone);
      }
      tx.audit({ actor: `resident:${p.residentId}`, event: 'phone.pairing.cancel', subject: p.id, details: phone ? { phone: phone.id } : {} }, now);
      return this.pairingView(tx, { ...p, status: 'cancelled' }, now);
    });
  }

  /** The trusted phones of this session's resident on this PC. */
  async list(session: Session): Promise<PairedPhone[]> {
    return this.store.read(async (tx) => {
      const phones = await tx.phones.phonesOf(session.residentId, session.deviceKeySha256, ['active']);
      return Promise.all(
        phones.map(async (p) => ({
          phoneId: p.id,
          label: p.label,
          code: await phoneKeyCode(p.publicKeyDer),
          pairedAt: iso(p.confirmedAt ?? p.createdAt),
          lastSeenAt: p.lastSeenAt === null ? null : iso(p.lastSeenAt),
          expiresAt: iso(p.expiresAt),
          push: p.push !== null,
        })),
      );
    });
  }

  private async ownPhone(tx: Tx, session: Session, phoneId: string): Promise<PhoneRecord> {
    const p = await tx.phones.phone(phoneId, true);
    if (!p || p.status !== 'active' || p.residentId !== session.residentId || p.pcDeviceKeySha256 !== session.deviceKeySha256) {
      throw new ServiceError('not_found', 'no such phone paired with this PC');
    }
    return p;
  }

  /** Renames a phone. */
  async rename(session: Session, phoneId: string, label: string): Promise<void> {
    const now = this.config.clock();
    await this.store.write(async (tx) => {
      const p = await this.ownPhone(tx, session, phoneId);
      await tx.phones.rename(p.id, label);
      tx.audit({ actor: `resident:${session.residentId}`, event: 'phone.rename', subject: p.id }, now);
      this.announce(tx, p);
    });
  }

  /** Removes a phone: its socket is closed and it answers nothing from now on. */
  async remove(session: Session, phoneId: string): Promise<void> {
    const now = this.config.clock();
    await this.store.write(async (tx) => {
      const p = await this.ownPhone(tx, session, phoneId);
      await tx.phones.remove(p.id, now);
      tx.audit({ actor: `resident:${session.residentId}`, event: 'phone.removed', subject: p.id, details: { pc: p.pcDeviceKeySha256.slice(0, 16) } }, now);
      this.announce(tx, p);
    });
  }

  // ——— the phone (holding the pairing secret) ———

  /** The first phone to present the secret claims the pairing for its device key and gets the passkey creation options. */
  async registrationOptions(req: RegistrationOptionsRequest, clientAddress: string): Promise<RegistrationOptionsResponse> {
    const device = parseDeviceKey(req.devicePublicKey);
    const now = this.config.clock();
    const challenge = randomBytes(32);
    const { rpId } = this.webOrigin();
    const result = await this.store.write(async (tx) => {
      const limited = await this.limit(tx, `phone-reg:${sha256Hex(Buffer.from(clientAddress)).slice(0, 16)}`, this.config.phoneRegistrationRateLimit, now);
      if (limited) return limited;
      const p = await tx.phones.pairingBySecret(sha256Hex(Buffer.from(req.secret)));
      if (!p || p.status !== 'open' || p.expiresAt <= now) {
        tx.audit({ actor: 'phone', event: 'phone.pairing.refused', subject: p?.id ?? null, details: { reason: p ? (p.expiresAt <= now ? 'expired' : p.status) : 'unknown' } }, now);
        return new ServiceError('pairing_invalid', 'this pairing code is unknown, already used or expired; show a new one on the PC');
      }
      if (await tx.phones.keyInUse(device.sha256)) return new ServiceError('invalid_request', 'this device key is already registered; a phone makes a new key for each pairing');
      await tx.phones.claimPairing(p.id, { keySha256: device.sha256, keyDer: device.der, label: req.label, challenge: b64url(challenge) }, now);
      tx.audit({ actor: 'phone', event: 'phone.pairing.claimed', subject: p.id, details: { phoneKey: device.sha256.slice(0, 16) } }, now);
      return { pairing: p, municipality: (await tx.residents.municipality())?.name ?? 'issuance' };
    });
    if (result instanceof ServiceError) throw result;
    const options = await generateRegistrationOptions({
      rpName: result.municipality,
      rpID: rpId,
      // Shown by the phone's passkey manager: the label, never the resident's name.
      userName: req.label,
      userID: randomBytes(16),
      challenge,
      attestationType: 'none',
      authenticatorSelection: { authenticatorAttachment: 'platform', residentKey: 'preferred', userVerification: 'required' },
      supportedAlgorithmIDs: [-7, -257],
      timeout: Math.max(10_000, result.pairing.expiresAt - now),
    });
    // The library's JSON type has no index signature; the contract's schema keeps unknown members.
    return { pairingId: result.pairing.id, options: options as unknown as RegistrationOptionsResponse['options'], expiresAt: iso(result.pairing.expiresAt) };
  }

  /** Verifies the phone's passkey (user verification required) and its device key, and stores the phone awaiting the PC's confirmation. */
  async register(req: RegistrationRequest, clientAddress: string): Promise<RegistrationResponse> {
    const now = this.config.clock();
    const claimed = await this.store.write(async (tx) => {
      const limited = await this.limit(tx, `phone-reg:${sha256Hex(Buffer.from(clientAddress)).slice(0, 16)}`, this.config.phoneRegistrationRateLimit, now);
      if (limited) return limited;
      const p = await tx.phones.pairing(req.pairingId);
      if (!p || p.secretSha256 !== sha256Hex(Buffer.from(req.secret)) || p.status !== 'claimed' || p.expiresAt <= now || !p.phoneKeyDer || !p.challenge) {
        return new ServiceError('pairing_invalid', 'this pairing is unknown, already used or expired; show a new code on the PC');
      }
      return p;
    });
    if (claimed instanceof ServiceError) throw claimed;
    const device = parseDeviceKey(claimed.phoneKeyDer!.toString('base64'));
    if (!verifyDeviceSignature(device.key, phonePairingSignedText(claimed.id, claimed.challenge!), req.signature)) {
      throw new ServiceError('signature_invalid', 'the signature does not verify with the device key that claimed this pairing');
    }
    const { origin, rpId } = this.webOrigin();
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response: req.credential,
        expectedChallenge: claimed.challenge!,
        expectedOrigin: origin,
        expectedRPID: rpId,
        requireUserVerification: true,
      });
    } catch (e) {
      throw new ServiceError(/user verif/i.test((e as Error).message) ? 'user_verification_required' : 'passkey_invalid', `the passkey registration does not verify: ${(e as Error).message}`);
    }
    if (!verified.verified) throw new ServiceError('passkey_invalid', 'the passkey registration does not verify');
    const credential = verified.registrationInfo.credential;
    const phoneId = randomUUID();
    await this.store.write(async (tx) => {
      const p = await tx.phones.pairing(claimed.id, true);
      if (!p || p.status !== 'claimed' || p.expiresAt <= now || p.phoneKeySha256 !== device.sha256) throw new ServiceError('pairing_invalid', 'the pairing changed meanwhile; show a new code on the PC');
      await tx.phones.addPhone({
        id: phoneId,
        residentId: p.residentId,
        pcDeviceKeySha256: p.pcDeviceKeySha256,
        deviceKeySha256: device.sha256,
        publicKeyDer: device.der,
        label: p.phoneLabel ?? 'phone',
        credentialId: credential.id,
        credentialPublicKey: Buffer.from(credential.publicKey),
        signCount: credential.counter,
        card: p.card,
        createdAt: now,
        // Until the PC confirms, the pairing's deadline bounds it.
        expiresAt: p.expiresAt,
      });
      await tx.phones.movePairing(p.id, 'claimed', 'registered', now, phoneId);
      tx.audit({ actor: 'phone', event: 'phone.registered', subject: phoneId, details: { pairing: p.id } }, now);
      this.announce(tx, (await tx.phones.phone(phoneId))!);
    });
    return { phoneId, status: 'awaiting_confirmation', credentialId: credential.id, rpId };
  }

  // ——— the phone on the applicant socket ———

  /** The phone behind a device key if it may use the socket now, else why not. */
  async usable(keySha256: string): Promise<UsablePhone | PhoneRefusal> {
    const now = this.config.clock();
    return this.store.read(async (tx) => {
      const phone = await tx.phones.phoneByKey(keySha256);
      if (!phone) return 'device_unknown';
      if (phone.status === 'removed' || phone.expiresAt <= now || (await this.cardRevoked(tx, phone.card, now))) return 'device_removed';
      return { phone, state: phone.status === 'active' ? 'active' : 'awaiting_confirmation' };
    });
  }

  /** Records the phone's latest contact (the PC lists it as "last seen"). */
  async touch(phoneId: string): Promise<void> {
    const now = this.config.clock();
    await this.store.write((tx) => tx.phones.touch(phoneId, now));
  }

  /** What the phone shows: its status, label and the open receipts it carries. */
  async state(u: UsablePhone): Promise<PhoneStateMessage> {
    const now = this.config.clock();
    const keys = await this.push.vapidKeys();
    const receipts =
      u.state === 'active'
        ? await this.store.read(async (tx) =>
            (await tx.applications.listForResident(u.phone.residentId)).filter(
              (a) => a.deviceKeySha256 === u.phone.pcDeviceKeySha256 && OPEN_RECEIPT_STATUSES.has(a.status) && a.expiresAt > now,
            ),
          )
        : [];
    return {
      type: 'phone-state',
      status: u.state,
      label: u.phone.label,
      expiresAt: iso(u.phone.expiresAt),
      receipts: receipts.map((a) => ({
        applicationId: a.id,
        receiptNumber: a.receiptNumber,
        certificateType: a.certificateType,
        copies: a.copies,
        fee: a.fee,
        status: a.status,
        expiresAt: iso(a.expiresAt),
      })),
      vapidPublicKey: keys.publicKey,
      push: u.phone.push !== null,
    };
  }

  /** Stores (or clears) the phone's push subscription. */
  async setPush(phoneId: string, sub: PushSubscriptionJson | null): Promise<void> {
    if (sub && !pushEndpointAllowed(sub.endpoint)) throw new ServiceError('invalid_request', 'push endpoints must be https URLs');
    await this.store.write((tx) => tx.phones.setPush(phoneId, sub ? { endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth } : null));
  }

  /** The trusted phones an application's confirmations go to (the binding rule above). */
  async boundPhones(app: { residentId: string; deviceKeySha256: string }): Promise<PhoneRecord[]> {
    const now = this.config.clock();
    return this.store.read(async (tx) => {
      const out: PhoneRecord[] = [];
      for (const p of await tx.phones.phonesOf(app.residentId, app.deviceKeySha256, ['active'])) {
        if (p.expiresAt > now && !(await this.cardRevoked(tx, p.card, now))) out.push(p);
      }
      return out;
    });
  }

  /** Pushes "a confirmation is waiting" to phones without a live page; a subscription the push service calls gone is forgotten. */
  async notify(phones: readonly PhoneRecord[], ttlSeconds: number): Promise<void> {
    for (const p of phones) {
      if (!p.push || !pushEndpointAllowed(p.push.endpoint)) continue;
      const outcome = await this.push.send(p.push, { kind: 'print-confirmation' }, ttlSeconds);
      if (outcome === 'gone') await this.store.write((tx) => tx.phones.setPush(p.id, null));
      this.log.info({ phone: p.id, outcome }, 'web push');
    }
  }

  /**
   * Inside the answer's transaction: the phone as it is now, if it may answer for this
   * application (trusted, unexpired, card valid, bound to the application's resident and PC).
   */
  async answeringPhone(tx: Tx, phoneId: string, app: ApplicationRecord): Promise<PhoneRecord | null> {
    const now = this.config.clock();
    const p = await tx.phones.phone(phoneId, true);
    if (!p || p.status !== 'active' || p.expiresAt <= now || (await this.cardRevoked(tx, p.card, now))) return null;
    return p.residentId === app.residentId && p.pcDeviceKeySha256 === app.deviceKeySha256 ? p : null;
  }

  /**
   * Verifies a phone's approval assertion: its passkey, the challenge bound to this request and
   * "approve", the origin, the RP ID, user verification, and a counter that moved forward.
   * Returns the new counter (stored in the answer's transaction).
   */
  async verifyApproval(phone: PhoneRecord, requestId: string, assertion: Assertion | undefined): Promise<number> {
    if (!assertion) throw new ServiceError('passkey_required', 'approving on a phone needs its passkey (fingerprint, face or screen lock)');
    if (assertion.id !== phone.credentialId) throw new ServiceError('passkey_invalid', 'the assertion is not from this phone’s passkey');
    const { origin, rpId } = this.webOrigin();
    let result;
    try {
      result = await verifyAuthenticationResponse({
        response: assertion,
        expectedChallenge: b64url(passkeyApprovalChallenge(requestId)),
        expectedOrigin: origin,
        expectedRPID: rpId,
        credential: { id: phone.credentialId, publicKey: new Uint8Array(phone.credentialPublicKey), counter: phone.signCount },
        requireUserVerification: true,
      });
    } catch (e) {
      const message = (e as Error).message;
      throw new ServiceError(/user verif/i.test(message) ? 'user_verification_required' : 'passkey_invalid', `the approval assertion does not verify: ${message}`);
    }
    if (!result.verified || !result.authenticationInfo.userVerified) throw new ServiceError('user_verification_required', 'the approval was made without user verification');
    return result.authenticationInfo.newCounter;
  }

  /** Drops phones whose pairing ran out unconfirmed, and old pairings. */
  async sweep(): Promise<void> {
    const now = this.config.clock();
    await this.store.write(async (tx) => {
      for (const id of await tx.phones.purgeExpired(now)) this.announce(tx, (await tx.phones.phone(id))!);
    });
  }
}

