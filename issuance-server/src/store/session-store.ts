import type { SqlExecutor } from './db/sql.ts';

/** The card certificate a session was opened with: what revokes its pairings. */
export interface SessionCard {
  anchorSha256: string;
  serial: string;
  notAfter: number;
}

/** A live applicant session. */
export interface Session {
  residentId: string;
  deviceKeySha256: string;
  expiresAt: number;
  /** Null for sessions opened before the server remembered it (they cannot pair phones). */
  card: SessionCard | null;
  /** The hash of its bearer token, which a pairing is bound to. */
  tokenSha256: string;
}

/** Login challenges, registered device keys and applicant sessions. */
export class SessionStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** Stores a fresh challenge. */
  async addChallenge(id: string, nonce: string, expiresAt: number): Promise<void> {
    await this.sql.run('INSERT INTO challenges (id, nonce, expires_at) VALUES (?, ?, ?)', [id, nonce, expiresAt]);
  }

  /** Marks a challenge used if it is unused and unexpired; returns its nonce, else null. */
  async consumeChallenge(id: string, now: number): Promise<string | null> {
    const row = await this.sql.get<{ nonce: string; expires_at: number; used_at: number | null }>(
      `SELECT nonce, expires_at, used_at FROM challenges WHERE id = ?${this.sql.forUpdate}`,
      [id],
    );
    if (!row || row.used_at !== null || row.expires_at <= now) return null;
    const r = await this.sql.run('UPDATE challenges SET used_at = ? WHERE id = ? AND used_at IS NULL', [now, id]);
    return r.changes === 1 ? row.nonce : null;
  }

  /** Registers a device public key (idempotent). */
  async registerDevice(keySha256: string, der: Buffer, now: number): Promise<void> {
    await this.sql.run('INSERT INTO devices (key_sha256, public_key_der, registered_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [keySha256, der, now]);
  }

  /** True when a login has registered this device key. */
  async isDeviceKnown(keySha256: string): Promise<boolean> {
    return !!(await this.sql.get('SELECT 1 AS known FROM devices WHERE key_sha256 = ?', [keySha256]));
  }

  /** Stores a session under the hash of its token. */
  async addSession(s: Session & { card: SessionCard }, now: number): Promise<void> {
    await this.sql.run(
      'INSERT INTO sessions (token_sha256, resident_id, device_key_sha256, created_at, expires_at, card_anchor_sha256, card_serial, card_not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [s.tokenSha256, s.residentId, s.deviceKeySha256, now, s.expiresAt, s.card.anchorSha256, s.card.serial, s.card.notAfter],
    );
  }

  /** The unexpired session for a token hash. */
  async session(tokenSha256: string, now: number): Promise<Session | null> {
    const r = await this.sql.get<{
      resident_id: string;
      device_key_sha256: string;
      expires_at: number;
      card_anchor_sha256: string | null;
      card_serial: string | null;
      card_not_after: number | null;
    }>('SELECT resident_id, device_key_sha256, expires_at, card_anchor_sha256, card_serial, card_not_after FROM sessions WHERE token_sha256 = ? AND expires_at > ?', [
      tokenSha256,
      now,
    ]);
    if (!r) return null;
    const card = r.card_anchor_sha256 && r.card_serial && r.card_not_after !== null ? { anchorSha256: r.card_anchor_sha256, serial: r.card_serial, notAfter: Number(r.card_not_after) } : null;
    return { residentId: r.resident_id, deviceKeySha256: r.device_key_sha256, expiresAt: r.expires_at, card, tokenSha256 };
  }

  /** Deletes expired challenges and sessions. */
  async purgeExpired(now: number): Promise<void> {
    await this.sql.run('DELETE FROM challenges WHERE expires_at <= ?', [now - 60_000]);
    await this.sql.run('DELETE FROM sessions WHERE expires_at <= ?', [now]);
  }
}
