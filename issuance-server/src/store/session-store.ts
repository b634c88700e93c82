import type { Database } from 'better-sqlite3';

/** A live applicant session. */
export interface Session {
  residentId: string;
  deviceKeySha256: string;
  expiresAt: number;
}

/** Login challenges, registered device keys and applicant sessions. */
export class SessionStore {
  constructor(private readonly db: Database) {}

  /** Stores a fresh challenge. */
  addChallenge(id: string, nonce: string, expiresAt: number): void {
    this.db.prepare('INSERT INTO challenges (id, nonce, expires_at) VALUES (?, ?, ?)').run(id, nonce, expiresAt);
  }

  /** Marks a challenge used if it is unused and unexpired; returns its nonce, else null. */
  consumeChallenge(id: string, now: number): string | null {
    const row = this.db.prepare<[string], { nonce: string; expires_at: number; used_at: number | null }>('SELECT * FROM challenges WHERE id = ?').get(id);
    if (!row || row.used_at !== null || row.expires_at <= now) return null;
    const r = this.db.prepare('UPDATE challenges SET used_at = ? WHERE id = ? AND used_at IS NULL').run(now, id);
    return r.changes === 1 ? row.nonce : null;
  }

  /** Registers a device public key (idempotent). */
  registerDevice(keySha256: string, der: Buffer, now: number): void {
    this.db.prepare('INSERT OR IGNORE INTO devices (key_sha256, public_key_der, registered_at) VALUES (?, ?, ?)').run(keySha256, der, now);
  }

  /** True when a login has registered this device key. */
  isDeviceKnown(keySha256: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM devices WHERE key_sha256 = ?').get(keySha256);
  }

  /** Stores a session under the hash of its token. */
  addSession(tokenSha256: string, s: Session, now: number): void {
    this.db
      .prepare('INSERT INTO sessions (token_sha256, resident_id, device_key_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(tokenSha256, s.residentId, s.deviceKeySha256, now, s.expiresAt);
  }

  /** The unexpired session for a token hash. */
  session(tokenSha256: string, now: number): Session | null {
    const r = this.db
      .prepare<[string, number], { resident_id: string; device_key_sha256: string; expires_at: number }>(
        'SELECT resident_id, device_key_sha256, expires_at FROM sessions WHERE token_sha256 = ? AND expires_at > ?',
      )
      .get(tokenSha256, now);
    return r ? { residentId: r.resident_id, deviceKeySha256: r.device_key_sha256, expiresAt: r.expires_at } : null;
  }

  /** Deletes expired challenges and sessions. */
  purgeExpired(now: number): void {
    this.db.prepare('DELETE FROM challenges WHERE expires_at <= ?').run(now - 60_000);
    this.db.prepare('DELETE FROM sessions WHERE expires_at <= ?').run(now);
  }
}
