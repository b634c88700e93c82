import type { SqlExecutor } from './db/sql.ts';

/** Named settings of the server (the catalogue, the trust generation), shared by every node. */
export class SettingsStore {
  constructor(private readonly sql: SqlExecutor) {}

  /** A setting's value, or null. */
  async get(key: string): Promise<string | null> {
    return (await this.sql.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [key]))?.value ?? null;
  }

  /** Sets a setting. */
  async put(key: string, value: string): Promise<void> {
    await this.sql.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }
}
