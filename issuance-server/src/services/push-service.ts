// Web Push (RFC 8030/8291/8292) to paired phones whose page is closed, through the `web-push`
// library. The VAPID key pair lives in the database (`server_keys`, purpose `vapid`), so that
// every node signs with the same key the phones subscribed with; `admin init` makes it, and a
// data directory from before phones existed gets one on first use. Payloads carry no personal
// data: only "a print confirmation is waiting" (pushPayloadSchema); the page fetches the rest over
// its authenticated socket.
import type { PushPayload } from '@cert/common';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import webpush from 'web-push';
import type { PushTarget } from '../store/phone-store.ts';
import type { Store, Tx } from '../store/store.ts';

/** Purpose of the VAPID key pair in `server_keys`. */
export const VAPID_KEY_PURPOSE = 'vapid';

/** The VAPID key pair as web-push takes it (base64url raw P-256 keys). */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** Makes the VAPID key pair unless the database has one; returns the one in force. */
export async function ensureVapidKeys(tx: Tx, now: number): Promise<VapidKeys> {
  const existing = await tx.keys.get(VAPID_KEY_PURPOSE);
  const key =
    existing ??
    (await (() => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      return tx.keys.getOrInsert(
        { purpose: VAPID_KEY_PURPOSE, privateDer: pair.privateKey.export({ format: 'der', type: 'pkcs8' }), publicDer: pair.publicKey.export({ format: 'der', type: 'spki' }) },
        now,
      );
    })());
  const jwk: JsonWebKey = createPrivateKey({ key: key.privateDer, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
  const pub: JsonWebKey = createPublicKey({ key: key.publicDer, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(pub.x!, 'base64url'), Buffer.from(pub.y!, 'base64url')]);
  return { publicKey: raw.toString('base64url'), privateKey: jwk.d! };
}

/** Whether a push endpoint may be called: an https URL without credentials (push services speak only TLS). */
export function pushEndpointAllowed(endpoint: string): boolean {
  try {
    const url = new URL(endpoint);
    return url.protocol === 'https:' && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** What happened to one push. */
export type PushOutcome = 'sent' | 'gone' | 'failed';

/** Sends Web Push messages with the server's VAPID key. */
export class PushService {
  private keys: Promise<VapidKeys> | null = null;
  /** An agent trusting the extra anchors as well as the system's, when some are configured. */
  private readonly agent: Agent | undefined;

  constructor(
    private readonly store: Store,
    private readonly subject: () => string,
    private readonly clock: () => number,
    private readonly log: Logger,
    caPath?: string,
  ) {
    this.agent = caPath ? new Agent({ ca: [...rootCertificates, readFileSync(caPath, 'utf8')], keepAlive: false }) : undefined;
  }

  /** The VAPID key pair (made on first use when the data directory predates it). */
  vapidKeys(): Promise<VapidKeys> {
    this.keys ??= this.store.write((tx) => ensureVapidKeys(tx, this.clock())).catch((e: unknown) => {
      this.keys = null;
      throw e;
    });
    return this.keys;
  }

  /** Sends one message; `gone` when the push service says the subscription no longer exists (404/410). */
  async send(target: PushTarget, payload: PushPayload, ttlSeconds: number): Promise<PushOutcome> {
    const keys = await this.vapidKeys();
    try {
      await webpush.sendNotification({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, JSON.stringify(payload), {
        vapidDetails: { subject: this.subject(), publicKey: keys.publicKey, privateKey: keys.privateKey },
        TTL: Math.max(0, Math.floor(ttlSeconds)),
        urgency: 'high',
        timeout: 10_000,
        ...(this.agent ? { agent: this.agent } : {}),
      });
      return 'sent';
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 410) return 'gone';
      // The endpoint is a capability URL: log only its origin.
      this.log.warn({ status, pushService: new URL(target.endpoint).origin }, 'web push failed');
      return 'failed';
    }
  }
}
