// The engine the server tests run on: SQLite, unless ISSUANCE_TEST_POSTGRES names the admin URL of a
// PostgreSQL cluster. test/postgres/server-suites-on-postgres.test.ts sets it to run the integration
// suite and the store's unit tests a second time, same test bodies, against a real PostgreSQL; the
// multi-node tests start a cluster of their own with onTestCluster().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, dropDatabase, startPostgresCluster, type PostgresCluster } from '@cert/scripts/rig';
import type { ServerConfig } from '../src/config.ts';
import { openStore } from '../src/context.ts';

let postgresAdminUrl: string | undefined = process.env['ISSUANCE_TEST_POSTGRES'];

/** The admin URL of the cluster the tests run on now, or undefined for SQLite. */
export function testPostgres(): string | undefined {
  return postgresAdminUrl;
}

/**
 * Runs the tests of the enclosing `describe` on a throwaway cluster of their own (started before
 * them, removed after them); returns the cluster once started. The tests outside stay on SQLite.
 */
export function onTestCluster(): () => PostgresCluster {
  let cluster: PostgresCluster | null = null;
  let before_: string | undefined;
  before(async function () {
    this.timeout(60_000);
    cluster = await startPostgresCluster();
    before_ = postgresAdminUrl;
    postgresAdminUrl = cluster.adminUrl;
  });
  after(async () => {
    postgresAdminUrl = before_;
    await cluster?.stop();
  });
  return () => {
    if (!cluster) throw new Error('the cluster is not started yet');
    return cluster;
  };
}

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
  const admin = postgresAdminUrl;
  if (!admin) {
    if (!prepare) return { config: { dataDir: ':memory:' }, prepared: undefined as T, remove: async () => undefined };
    const dataDir = mkdtempSync(join(tmpdir(), 'issuance-it-'));
    try {
      return { config: { dataDir }, prepared: await fill({ dataDir }), remove: async () => rmSync(dataDir, { recursive: true, force: true }) };
    } catch (e) {
      rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
  }
  // Templates are per cluster: a test file may run on a cluster of its own.
  const key = `${admin} ${kind}`;
  let template = templates.get(key);
  if (!template) {
    template = (async () => {
      const name = uniqueName(`template_${kind}`);
      const databaseUrl = await createDatabase(admin, name);
      // Migrated before `prepare`, so that even an unprepared copy needs no migration of its own.
      await (await openStore({ dataDir: '', databaseUrl })).close();
      return { name, prepared: await fill({ dataDir: '', databaseUrl }) };
    })();
    templates.set(key, template);
  }
  const { name: templateName, prepared } = await template;
  const name = uniqueName(kind);
  const databaseUrl = await createDatabase(admin, name, templateName);
  return { config: { dataDir: '', databaseUrl }, prepared: prepared as T, remove: () => dropDatabase(admin, name) };
}
