// The engine the server tests run on: SQLite, unless ISSUANCE_TEST_POSTGRES names the admin URL of a
// PostgreSQL cluster. test/postgres/server-suites-on-postgres.test.ts sets it to run the integration
// suite and the store's unit tests a second time, same test bodies, against a real PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, dropDatabase } from '@cert/scripts/rig';
import type { ServerConfig } from '../src/config.ts';
import { openStore } from '../src/context.ts';

/** The cluster the tests of this process run on, or undefined for SQLite. */
export const TEST_POSTGRES: string | undefined = process.env['ISSUANCE_TEST_POSTGRES'];

/** Where one test's data lives, as the server's configuration names it. */
export type StorageConfig = Pick<ServerConfig, 'dataDir' | 'databaseUrl'>;

/** Fresh storage for one test and what preparing it gave. */
export interface TestStorage<T> {
  config: StorageConfig;
  prepared: T;
  /** Removes the data (after every server on it has stopped). */
  remove(): Promise<void>;
}

let created = 0;
const templates = new Map<string, Promise<{ name: string; prepared: unknown }>>();

function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${++created}`;
}

/**
 * Fresh storage, filled by `prepare`. On SQLite a new temp data directory that `prepare` fills (or,
 * with no `prepare`, an in-memory database). On PostgreSQL a new database copied from a template
 * that `prepare` filled once per process and `kind` (CREATE DATABASE … TEMPLATE takes ~0.1 s,
 * a seeding seconds), so every test starts from the same data.
 */
export async function testStorage<T = undefined>(kind: string, prepare?: (where: StorageConfig) => Promise<T>): Promise<TestStorage<T>> {
  const fill = prepare ?? (async () => undefined as T);
  if (!TEST_POSTGRES) {
    if (!prepare) return { config: { dataDir: ':memory:' }, prepared: undefined as T, remove: async () => undefined };
    const dataDir = mkdtempSync(join(tmpdir(), 'issuance-it-'));
    try {
      return { config: { dataDir }, prepared: await fill({ dataDir }), remove: async () => rmSync(dataDir, { recursive: true, force: true }) };
    } catch (e) {
      rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
  }
  const admin = TEST_POSTGRES;
  let template = templates.get(kind);
  if (!template) {
    template = (async () => {
      const name = uniqueName(`template_${kind}`);
      const databaseUrl = await createDatabase(admin, name);
      // Migrated before `prepare`, so that even an unprepared copy needs no migration of its own.
      await (await openStore({ dataDir: '', databaseUrl })).close();
      return { name, prepared: await fill({ dataDir: '', databaseUrl }) };
    })();
    templates.set(kind, template);
  }
  const { name: templateName, prepared } = await template;
  const name = uniqueName(kind);
  const databaseUrl = await createDatabase(admin, name, templateName);
  return { config: { dataDir: '', databaseUrl }, prepared: prepared as T, remove: () => dropDatabase(admin, name) };
}
