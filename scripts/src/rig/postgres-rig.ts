// A throwaway PostgreSQL cluster for tests and the benchmark (DESIGN.md, "Real devices and the test
// rig"): Debian's `postgresql` binaries, `initdb` into a temporary directory and `pg_ctl` on its own
// port on 127.0.0.1. PostgreSQL refuses to run as root, so as root every command runs as the
// `postgres` user (runuser) in a directory that user owns. The cluster and its directory go away on
// stop(), and also when the test process exits without stopping it.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.ts';

/** Options of {@link startPostgresCluster}. */
export interface PostgresClusterOptions {
  /**
   * Keep PostgreSQL's durability settings (fsync, synchronous commit) as in production; the
   * benchmark wants them. Tests turn them off: a cluster that lives for one test run needs no
   * crash safety, and fsync would only make them slower.
   */
  durable?: boolean;
}

/** A running throwaway cluster. */
export interface PostgresCluster {
  /** The port on 127.0.0.1. */
  readonly port: number;
  /** URL of the `postgres` database, for creating and dropping others. */
  readonly adminUrl: string;
  /** The URL of one database of this cluster. */
  url(database: string): string;
  /** Stops the server, keeping its data (a database that went away): `fast` ends sessions cleanly, `immediate` as a crash would. */
  stopServer(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again on the same port and data. */
  startServer(): Promise<void>;
  /** The server's log, for failure messages. */
  log(): string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

const ROLE = 'app';

/** The directory of the newest installed PostgreSQL server binaries (`pg_config --bindir`, else /usr/lib/postgresql/N/bin). */
export function postgresBinDir(): string {
  const configured = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const dir = configured.status === 0 ? configured.stdout.trim() : '';
  if (dir && existsSync(join(dir, 'initdb'))) return dir;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const found = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (!found) throw new Error('no PostgreSQL server binaries found: run scripts/system/install-packages.sh (Debian package postgresql)');
  return found;
}

/** Numeric uid and gid of `user`. */
function ids(user: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync('id', [flag, user], { encoding: 'utf8' }).stdout.trim());
  const uid = id('-u');
  const gid = id('-g');
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`no user "${user}" to run PostgreSQL as (it refuses root)`);
  return { uid, gid };
}

const asRoot = process.getuid?.() === 0;

/** Runs one PostgreSQL program to its end (as `postgres` when we are root); rejects with its output on failure. */
function runTool(bin: string, tool: string, args: string[]): Promise<void> {
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} ${args.join(' ')} failed (${code}):\n${out}`))));
  });
}

/** Runs one SQL statement on the cluster's `postgres` database. */
async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const identifier = (name: string) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a database name this rig makes: ${name}`);
  return `"${name}"`;
};

/**
 * Creates database `name` (a copy of `template`, which nobody may be connected to, when given) and
 * returns its URL. `asyncCommit` makes its commits return before their WAL reaches the disk (what
 * SQLite's WAL mode with synchronous=NORMAL does: a crash may lose the last commits, never corrupt).
 */
export async function createDatabase(adminUrl: string, name: string, template?: string, options: { asyncCommit?: boolean } = {}): Promise<string> {
  await adminQuery(adminUrl, `CREATE DATABASE ${identifier(name)}${template ? ` TEMPLATE ${identifier(template)}` : ''}`);
  if (options.asyncCommit) await adminQuery(adminUrl, `ALTER DATABASE ${identifier(name)} SET synchronous_commit = off`);
  return databaseUrl(adminUrl, name);
}

/** Drops database `name`, ending the sessions still connected to it. */
export function dropDatabase(adminUrl: string, name: string): Promise<void> {
  return adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${identifier(name)} WITH (FORCE)`);
}

/** The URL of database `name` on the cluster of `adminUrl`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Initialises and starts a cluster in a fresh temporary directory (see the top of this file). */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'pg-rig-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let running = false;
  // A test run that dies must not leave a server behind (synchronous: nothing else runs at exit).
  const cleanUp = () => {
    if (running) {
      const stop = [join(bin, 'pg_ctl'), '-D', data, 'stop', '-m', 'immediate', '-w'];
      spawnSync(asRoot ? 'runuser' : stop[0]!, asRoot ? ['-u', 'postgres', '--', ...stop] : stop.slice(1), { stdio: 'ignore' });
      running = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanUp);
  let port = 0;
  const settings = [
    `-c listen_addresses=127.0.0.1`,
    `-k ${dir}`,
    '-c max_connections=300',
    ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ];
  const startServer = async () => {
    await runTool(bin, 'pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port} ${settings.join(' ')}`, 'start']);
    running = true;
  };
  try {
    if (asRoot) {
      const { uid, gid } = ids('postgres');
      chownSync(dir, uid, gid);
    }
    await runTool(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', ROLE, '-E', 'UTF8', '--locale=C', '--no-sync']);
    // The port is free when picked, but another process may take it first: pick again then.
    for (let tries = 1; ; tries++) {
      port = await freePort();
      try {
        await startServer();
        break;
      } catch (e) {
        if (tries >= 3 || !/could not bind|already in use/i.test(readLog(logFile))) throw e;
      }
    }
  } catch (e) {
    process.off('exit', cleanUp);
    cleanUp();
    throw e;
  }
  const adminUrl = `postgres://${ROLE}@127.0.0.1:${port}/postgres`;
  return {
    port,
    adminUrl,
    url: (database) => databaseUrl(adminUrl, database),
    stopServer: async (mode = 'fast') => {
      await runTool(bin, 'pg_ctl', ['-D', data, 'stop', '-m', mode, '-w']);
      running = false;
    },
    startServer,
    log: () => readLog(logFile),
    stop: async () => {
      process.off('exit', cleanUp);
      if (running) {
        try {
          await runTool(bin, 'pg_ctl', ['-D', data, 'stop', '-m', 'fast', '-w']);
          running = false;
        } catch {
          // cleanUp stops it the hard way.
        }
      }
      cleanUp();
    },
  };
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
