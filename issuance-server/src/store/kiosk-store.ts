import type { Database } from 'better-sqlite3';

/** A registered kiosk. */
export interface Kiosk {
  id: string;
  name: string;
  location: string;
  credentialSha256: string;
}

/** Registered kiosks and their hashed credentials. */
export class KioskStore {
  constructor(private readonly db: Database) {}

  /** Registers a kiosk. */
  add(k: Kiosk, now: number): void {
    this.db.prepare('INSERT INTO kiosks (id, name, location, credential_sha256, created_at) VALUES (?, ?, ?, ?, ?)').run(k.id, k.name, k.location, k.credentialSha256, now);
  }

  /** One kiosk by id. */
  get(id: string): Kiosk | null {
    const r = this.db.prepare<[string], { id: string; name: string; location: string; credential_sha256: string }>('SELECT * FROM kiosks WHERE id = ?').get(id);
    return r ? { id: r.id, name: r.name, location: r.location, credentialSha256: r.credential_sha256 } : null;
  }
}
