import type { LifecycleChange } from './change-feed.ts';
import type { SqlExecutor } from './db/sql.ts';
import type { SessionCard } from './session-store.ts';

/** Where a pairing stands in the database (`expired` is computed from `expiresAt`). */
export type PairingRowStatus = 'open' | 'claimed' | 'registered' | 'confirmed' | 'cancelled';

/** A pairing secret issued to a card-authenticated session. */
export interface PairingRecord {
  id: string;
  secretSha256: string;
  residentId: string;
  pcDeviceKeySha256: string;
  sessionTokenSha256: string;
  card: SessionCard;
  status: PairingRowStatus;
  phoneKeySha256: string | null;
  phoneKeyDer: Buffer | null;
  phoneLabel: string | null;
  challenge: string | null;
  phoneId: string | null;
  createdAt: number;
  expiresAt: number;
}

/** A phone's push subscription. */
export interface PushTarget {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** A paired (or pairing) phone. */
export interface PhoneRecord {
  id: string;
  residentId: string;
  pcDeviceKeySha256: string;
  deviceKeySha256: string;
  publicKeyDer: Buffer;
  label: string;
  credentialId: string;
  credentialPublicKey: Buffer;
  signCount: number;
  status: 'pending' | 'active' | 'removed';
  card: SessionCard;
  createdAt: number;
  confirmedAt: number | null;
  expiresAt: number;
  lastSeenAt: number | null;
  push: PushTarget | null;
}

interface PairingRow {
  id: string;
  secret_sha256: string;
  resident_id: string;
  pc_device_key_sha256: string;
  session_token_sha256: string;
  card_anchor_sha256: string;
  card_serial: string;
  card_not_after: number;
  status: PairingRowStatus;
  phone_key_sha256: string | null;
  phone_key_der: Buffer | null;
  phone_label: string | null;
  challenge: string | null;
  phone_id: string | null;
  created_at: number;
  expires_at: number;
}

interface PhoneRow {
  id: string;
  resident_id: string;
  pc_device_key_sha256: string;
  device_key_sha256: string;
  public_key_der: Buffer;
  label: string;
  credential_id: string;
  credential_public_key: Buffer;
  sign_count: number;
  status: PhoneRecord['status'];
  card_anchor_sha256: string;
  card_serial: string;
  card_not_after: number;
  created_at: number;
  confirmed_at: number | null;
  expires_at: number;
  last_seen_at: number | null;
  push_endpoint: string | null;
  push_p256dh: string | null;
  push_auth: string | null;
}

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function pairingFromRow(r: PairingRow): PairingRecord {
  return {
    id: r.id,
    secretSha256: r.secret_sha256,
    residentId: r.resident_id,
    pcDeviceKeySha256: r.pc_device_key_sha256,
    sessionTokenSha256: r.session_token_sha256,
    card: { anchorSha256: r.card_anchor_sha256, serial: r.card_serial, notAfter: Number(r.card_not_after) },
    status: r.status,
    phoneKeySha256: r.phone_key_sha256,
    phoneKeyDer: r.phone_key_der,
    phoneLabel: r.phone_label,
    challenge: r.challenge,
    phoneId: r.phone_id,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

function phoneFromRow(r: PhoneRow): PhoneRecord {
  return {
    id: r.id,
    residentId: r.resident_id,
    pcDeviceKeySha256: r.pc_device_key_sha256,
    deviceKeySha256: r.device_key_sha256,
    publicKeyDer: r.public_key_der,
    label: r.label,
    credentialId: r.credential_id,
    credentialPublicKey: r.credential_public_key,
    signCount: Number(r.sign_count),
    status: r.status,
    card: { anchorSha256: r.card_anchor_sha256, serial: r.card_serial, notAfter: Number(r.card_not_after) },
    createdAt: Number(r.created_at),
    confirmedAt: num(r.confirmed_at),
    expiresAt: Number(r.expires_at),
    lastSeenAt: num(r.last_seen_at),
    push: r.push_endpoint && r.push_p256dh && r.push_auth ? { endpoint: r.push_endpoint, p256dh: r.push_p256dh, auth: r.push_auth } : null,
  };
}

/** Pairing secrets and paired phones. */
export class PhoneStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** Stores a fresh pairing. */
  async addPairing(p: Pick<PairingRecord, 'id' | 'secretSha256' | 'residentId' | 'pcDeviceKeySha256' | 'sessionTokenSha256' | 'card' | 'createdAt' | 'expiresAt'>): Promise<void> {
    await this.sql.run(
      `INSERT INTO phone_pairings (id, secret_sha256, resident_id, pc_device_key_sha256, session_token_sha256, card_anchor_sha256, card_serial, card_not_after, status, created_at, expires_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
      [p.id, p.secretSha256, p.residentId, p.pcDeviceKeySha256, p.sessionTokenSha256, p.card.anchorSha256, p.card.serial, p.card.notAfter, p.createdAt, p.expiresAt, p.createdAt],
    );
  }

  /** A pairing by id (locked for the transaction when `lock`). */
  async pairing(id: string, lock = false): Promise<PairingRecord | null> {
    const r = await this.sql.get<PairingRow>(`SELECT * FROM phone_pairings WHERE id = ?${lock ? this.sql.forUpdate : ''}`, [id]);
    return r ? pairingFromRow(r) : null;
  }

  /** A pairing by the hash of its secret, locked for the transaction. */
  async pairingBySecret(secretSha256: string): Promise<PairingRecord | null> {
    const r = await this.sql.get<PairingRow>(`SELECT * FROM phone_pairings WHERE secret_sha256 = ?${this.sql.forUpdate}`, [secretSha256]);
    return r ? pairingFromRow(r) : null;
  }

  /** The first phone to present the secret claims the pairing for its key; false when it was no longer open. */
  async claimPairing(id: string, phone: { keySha256: string; keyDer: Buffer; label: string; challenge: string }, now: number): Promise<boolean> {
    const r = await this.sql.run(
      `UPDATE phone_pairings SET status = 'claimed', phone_key_sha256 = ?, phone_key_der = ?, phone_label = ?, challenge = ?, updated_at = ? WHERE id = ? AND status = 'open'`,
      [phone.keySha256, phone.keyDer, phone.label, phone.challenge, now, id],
    );
    return r.changes === 1;
  }

  /** Moves a pairing from one status to the next; false when it was not in `from`. */
  async movePairing(id: string, from: PairingRowStatus, to: PairingRowStatus, now: number, phoneId?: string): Promise<boolean> {
    const r = await this.sql.run(`UPDATE phone_pairings SET status = ?, phone_id = COALESCE(?, phone_id), updated_at = ? WHERE id = ? AND status = ?`, [to, phoneId ?? null, now, id, from]);
    return r.changes === 1;
  }

  /** Stores a phone that registered (pending until the PC confirms it). */
  async addPhone(p: Omit<PhoneRecord, 'confirmedAt' | 'lastSeenAt' | 'push' | 'status'>): Promise<void> {
    await this.sql.run(
      `INSERT INTO phones (id, resident_id, pc_device_key_sha256, device_key_sha256, public_key_der, label, credential_id, credential_public_key, sign_count, status,
         card_anchor_sha256, card_serial, card_not_after, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
      [
        p.id,
        p.residentId,
        p.pcDeviceKeySha256,
        p.deviceKeySha256,
        p.publicKeyDer,
        p.label,
        p.credentialId,
        p.credentialPublicKey,
        p.signCount,
        p.card.anchorSha256,
        p.card.serial,
        p.card.notAfter,
        p.createdAt,
        p.expiresAt,
      ],
    );
  }

  /** A phone by id (locked for the transaction when `lock`). */
  async phone(id: string, lock = false): Promise<PhoneRecord | null> {
    const r = await this.sql.get<PhoneRow>(`SELECT * FROM phones WHERE id = ?${lock ? this.sql.forUpdate : ''}`, [id]);
    return r ? phoneFromRow(r) : null;
  }

  /** A phone by its device key. */
  async phoneByKey(keySha256: string): Promise<PhoneRecord | null> {
    const r = await this.sql.get<PhoneRow>('SELECT * FROM phones WHERE device_key_sha256 = ?', [keySha256]);
    return r ? phoneFromRow(r) : null;
  }

  /** The phone changes another node announced, read back by id (phones are never deleted, so each is found). */
  async phoneChanges(ids: readonly string[]): Promise<LifecycleChange[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const rows = await this.sql.all<{ id: string; device_key_sha256: string }>(
      `SELECT id, device_key_sha256 FROM phones WHERE id IN (${unique.map(() => '?').join(', ')})`,
      unique,
    );
    return rows.map((r) => ({ kind: 'phone', phoneId: r.id, deviceKeySha256: r.device_key_sha256 }));
  }

  /** True when the key is already some phone's (or a PC's) device key. */
  async keyInUse(keySha256: string): Promise<boolean> {
    return !!(
      (await this.sql.get('SELECT 1 AS used FROM phones WHERE device_key_sha256 = ?', [keySha256])) ??
      (await this.sql.get('SELECT 1 AS used FROM devices WHERE key_sha256 = ?', [keySha256]))
    );
  }

  /** A resident's phones bound to one PC, in the given statuses, oldest first. */
  async phonesOf(residentId: string, pcDeviceKeySha256: string, statuses: readonly PhoneRecord['status'][]): Promise<PhoneRecord[]> {
    const rows = await this.sql.all<PhoneRow>(
      `SELECT * FROM phones WHERE resident_id = ? AND pc_device_key_sha256 = ? AND status IN (${statuses.map(() => '?').join(', ')}) ORDER BY created_at, id`,
      [residentId, pcDeviceKeySha256, ...statuses],
    );
    return rows.map(phoneFromRow);
  }

  /** Trusts a pending phone until `expiresAt`; false when it was not pending. */
  async activate(id: string, now: number, expiresAt: number): Promise<boolean> {
    const r = await this.sql.run(`UPDATE phones SET status = 'active', confirmed_at = ?, expires_at = ? WHERE id = ? AND status = 'pending'`, [now, expiresAt, id]);
    return r.changes === 1;
  }

  /** Renames a phone. */
  async rename(id: string, label: string): Promise<void> {
    await this.sql.run('UPDATE phones SET label = ? WHERE id = ?', [label, id]);
  }

  /** Removes a phone (kept as a row so that its key and passkey can never register again); false when already removed. */
  async remove(id: string, now: number): Promise<boolean> {
    const r = await this.sql.run(
      `UPDATE phones SET status = 'removed', removed_at = ?, push_endpoint = NULL, push_p256dh = NULL, push_auth = NULL WHERE id = ? AND status <> 'removed'`,
      [now, id],
    );
    return r.changes === 1;
  }

  /** Records the phone's latest contact. */
  async touch(id: string, now: number): Promise<void> {
    await this.sql.run('UPDATE phones SET last_seen_at = ? WHERE id = ?', [now, id]);
  }

  /** Stores or clears the phone's push subscription. */
  async setPush(id: string, push: PushTarget | null): Promise<void> {
    await this.sql.run('UPDATE phones SET push_endpoint = ?, push_p256dh = ?, push_auth = ? WHERE id = ?', [push?.endpoint ?? null, push?.p256dh ?? null, push?.auth ?? null, id]);
  }

  /** Moves the passkey's signature counter forward; false when another answer moved it first (a replay). */
  async advanceCounter(id: string, from: number, to: number): Promise<boolean> {
    const r = await this.sql.run('UPDATE phones SET sign_count = ? WHERE id = ? AND sign_count = ?', [to, id, from]);
    return r.changes === 1;
  }

  /** Removes pending phones whose pairing ran out unconfirmed, and pairings long expired; returns the phones removed. */
  async purgeExpired(now: number): Promise<string[]> {
    const stale = await this.sql.all<{ id: string }>(
      `SELECT p.id FROM phones p JOIN phone_pairings r ON r.phone_id = p.id WHERE p.status = 'pending' AND r.expires_at <= ?`,
      [now],
    );
    for (const s of stale) await this.remove(s.id, now);
    await this.sql.run(`DELETE FROM phone_pairings WHERE expires_at <= ?`, [now - 24 * 3600_000]);
    return stale.map((s) => s.id);
  }
}
