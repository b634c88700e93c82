import type { SqlExecutor } from './db/sql.ts';

/** A registered kiosk. */
export interface Kiosk {
  id: string;
  name: string;
  location: string;
  credentialSha256: string;
}

/** Registered kiosks and their hashed credentials. */
export class KioskStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** Registers a kiosk. */
  async add(k: Kiosk, now: number): Promise<void> {
    await this.sql.run('INSERT INTO kiosks (id, name, location, credential_sha256, created_at) VALUES (?, ?, ?, ?, ?)', [k.id, k.name, k.location, k.credentialSha256, now]);
  }

  /** One kiosk by id. */
  async get(id: string): Promise<Kiosk | null> {
    const r = await this.sql.get<{ id: string; name: string; location: string; credential_sha256: string }>(
      'SELECT id, name, location, credential_sha256 FROM kiosks WHERE id = ?',
      [id],
    );
    return r ? { id: r.id, name: r.name, location: r.location, credentialSha256: r.credential_sha256 } : null;
  }
}
