import type { SqlExecutor } from './db/sql.ts';

/** A key pair the server keeps for one purpose (audit checkpoints, Web Push …). */
export interface ServerKey {
  purpose: string;
  privateDer: Buffer;
  publicDer: Buffer;
}

/** Server key pairs and settings, shared by every node through the database. */
export class ServerKeyStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** The key pair of a purpose. */
  async get(purpose: string): Promise<ServerKey | null> {
    const r = await this.sql.get<{ private_der: Buffer; public_der: Buffer }>('SELECT private_der, public_der FROM server_keys WHERE purpose = ?', [purpose]);
    return r ? { purpose, privateDer: r.private_der, publicDer: r.public_der } : null;
  }

  /** Stores a key pair unless the purpose has one already; returns the one in force. */
  async getOrInsert(key: ServerKey, now: number): Promise<ServerKey> {
    await this.sql.run('INSERT INTO server_keys (purpose, private_der, public_der, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      key.purpose,
      key.privateDer,
      key.publicDer,
      now,
    ]);
    return (await this.get(key.purpose))!;
  }
}
