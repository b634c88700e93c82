import type { SqlExecutor } from './db/sql.ts';

/** A resident-records system allowed to send live updates. */
export interface ApiClient {
  id: string;
  name: string;
  credentialSha256: string;
}

/** Clients of the live-update admin API and their hashed credentials. */
export class ApiClientStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** Registers a client. */
  async add(c: ApiClient, now: number): Promise<void> {
    await this.sql.run('INSERT INTO api_clients (id, name, credential_sha256, created_at) VALUES (?, ?, ?, ?)', [c.id, c.name, c.credentialSha256, now]);
  }

  /** A client that has not been revoked. */
  async active(id: string): Promise<ApiClient | null> {
    const r = await this.sql.get<{ id: string; name: string; credential_sha256: string }>('SELECT id, name, credential_sha256 FROM api_clients WHERE id = ? AND revoked_at IS NULL', [id]);
    return r ? { id: r.id, name: r.name, credentialSha256: r.credential_sha256 } : null;
  }

  /** Revokes a client; false when it was not active. */
  async revoke(id: string, now: number): Promise<boolean> {
    return (await this.sql.run('UPDATE api_clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id])).changes === 1;
  }
}
