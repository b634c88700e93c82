// The storage engines side by side (issue 10, `npm run bench`): the same complete flows against
// one node on SQLite, one node on PostgreSQL and three nodes on one PostgreSQL database, in one
// run on this machine, with the latency of a lifecycle event from one node to another and the
// cost of the advisory lock that keeps the audit log one chain. On a 2-core machine three nodes
// share the two cores with PostgreSQL and the load generators: the figures show the overhead of
// the shared database and that every guarantee holds, not a speed-up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStore } from 'issuance-server';
import { FLOW_STEPS, type FlowTimings } from '../load/kiosk-flow.ts';
import { LoadServer, seedLoadDataDir, UNLIMITED_RATE_LIMITS } from '../load/load-server.ts';
import { formatSummary, ms, summarize, type Summary } from '../load/stats.ts';
import { buildLoadRegister, type LoadRegister } from '../load/synthetic-register.ts';
import { ensureTestPki, type TestPkiManifest } from '../pki/test-pki.ts';
import { createDatabase, startPostgresCluster, type PostgresCluster } from '../rig/postgres-rig.ts';
import { mergeErrors, share, WorkerPool } from './load-bench.ts';
import type { ConnectRun, FlowRun, TimedRun } from './load-worker.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
const size = (name: string, full: number, quick: number) => Number(process.env[`BENCH_ENGINE_${name}`] ?? (QUICK ? quick : full));
const CONFIG = {
  workers: 3,
  kiosks: 30,
  households: size('HOUSEHOLDS', 8, 4),
  agents: size('AGENTS', 30, 12),
  levelMs: size('LEVEL_SECONDS', 8, 2) * 1000,
  concurrency: (process.env['BENCH_ENGINE_CONCURRENCY'] ?? (QUICK ? '8' : '4,16')).split(',').map(Number),
  probes: size('PROBES', 200, 40),
  appends: size('APPENDS', 2000, 300),
};

/** One engine configuration's figures. */
interface EngineResult {
  name: string;
  levels: { concurrency: number; perSecond: number; total: Summary; worstStepP99: number; cpuMsPerFlow: number; errors: string }[];
  push: Summary;
}

/** Starts the nodes of one configuration, runs flows at each concurrency and the push probe, stops them. */
async function measureEngine(name: string, nodes: LoadServer[], register: LoadRegister, kiosks: string[], work: string): Promise<EngineResult> {
  // One after another: three nodes warming their render pools at once on two cores start slowly.
  for (const n of nodes) await n.start();
  const pool = new WorkerPool(CONFIG.workers);
  try {
    const urls = nodes.map((n) => n.endpoint.baseUrl);
    const cards = Object.entries(register.cards).map(([residentId, card]) => ({ residentId, card }));
    // With several nodes, worker i's kiosks use node i and its residents the next node: every flow crosses nodes.
    await pool.all((i) => ({ cmd: 'init', baseUrl: urls[i % urls.length]!, agentBaseUrl: urls[(i + 1) % urls.length]!, kiosks, cards, keyDir: join(work, `${name}-keys-${i}`) }));
    const logins = await pool.all<ConnectRun>((i) => ({ cmd: 'agents', count: share(CONFIG.agents, CONFIG.workers, i).n, concurrency: 4 }));
    const failed = mergeErrors(logins.map((r) => ({ errors: r.failures })));
    if (failed) console.log(`  ${name}: agent login failures:${failed}`);
    const levels: EngineResult['levels'] = [];
    // CPU the server processes use per flow: the overhead, whatever else shares the machine.
    const serverCpu = () => nodes.reduce((a, n) => a + n.cpuSeconds(), 0);
    for (const c of CONFIG.concurrency) {
      const cpu0 = serverCpu();
      const runs = await pool.all<FlowRun>((i) => {
        const s = share(c, CONFIG.workers, i);
        return s.n ? { cmd: 'flows', concurrency: s.n, durationMs: CONFIG.levelMs, kioskOffset: s.offset } : null;
      });
      const timings = runs.flatMap((r) => r.timings);
      const step = (k: keyof FlowTimings) => summarize(timings.map((t) => t[k]));
      const level = {
        concurrency: c,
        perSecond: runs.reduce((a, r) => a + r.completed, 0) / (CONFIG.levelMs / 1000),
        total: step('total'),
        worstStepP99: Math.max(...FLOW_STEPS.map((k) => step(k).p99)),
        cpuMsPerFlow: ((serverCpu() - cpu0) * 1000) / Math.max(1, timings.length),
        errors: mergeErrors(runs),
      };
      console.log(`  ${name.padEnd(16)} c=${String(c).padStart(2)}: ${level.perSecond.toFixed(1).padStart(6)} flows/s; flow ${formatSummary(level.total)}; worst step p99 ${ms(level.worstStepP99)} ms; node CPU ${ms(level.cpuMsPerFlow)} ms a flow${level.errors}`);
      levels.push(level);
    }
    // Claim on the kiosks' node → request on the residents' socket (another node when there are several).
    const probes = await pool.all<TimedRun>((i) => (i === 0 ? { cmd: 'probe', count: CONFIG.probes, concurrency: 4, kioskOffset: 0 } : null));
    const push = summarize(probes.flatMap((p) => p.latencies));
    console.log(`  ${name.padEnd(16)} claim → confirmation request on the device's socket: ${formatSummary(push, true)}${mergeErrors(probes)}`);
    return { name, levels, push };
  } finally {
    await pool.stop();
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/**
 * The audit log's advisory lock: audit appends (one event per transaction, as a lifecycle
 * transition writes) from `nodes` connection pools at `concurrency` each, timing how long each
 * transaction waited for the lock and how long it took in all.
 */
async function measureAppendLock(databaseUrl: string, nodes: number, concurrency: number): Promise<string> {
  const stores = await Promise.all(Array.from({ length: nodes }, () => openStore({ dataDir: '', databaseUrl })));
  const waits: number[] = [];
  const totals: number[] = [];
  let left = CONFIG.appends;
  const t0 = performance.now();
  try {
    await Promise.all(
      stores.flatMap((store) =>
        Array.from({ length: concurrency }, async () => {
          while (left-- > 0) {
            const start = performance.now();
            await store.write(async (tx) => {
              const t = performance.now();
              // Taken here to time it; the append takes it again (a no-op wait: the transaction holds it).
              await tx.sql.lockExclusive('audit_log');
              waits.push(performance.now() - t);
              tx.audit({ actor: 'system', event: 'bench.append', details: { nodes } });
            });
            totals.push(performance.now() - start);
          }
        }),
      ),
    );
    const perSecond = totals.length / ((performance.now() - t0) / 1000);
    const lock = summarize(waits);
    const all = summarize(totals);
    const shareOfTime = waits.reduce((a, b) => a + b, 0) / totals.reduce((a, b) => a + b, 0);
    const report = await stores[0]!.read((tx) => tx.auditLog.verify());
    return `${nodes} node(s) × ${concurrency}: ${perSecond.toFixed(0)} appends/s; lock wait ${formatSummary(lock)}; transaction ${formatSummary(all)}; ${(shareOfTime * 100).toFixed(0)} % of the time waiting for the lock; chain ${report.firstBad ? 'BROKEN' : 'intact'} (${report.rows} rows)`;
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

/** Runs the engine comparison and prints its table. */
export async function runEngineBench(): Promise<void> {
  console.log(`\n== storage engines: SQLite, PostgreSQL with 1 and 3 nodes (${QUICK ? 'quick' : 'full'}; ${JSON.stringify(CONFIG)}) ==`);
  const pki: TestPkiManifest = await ensureTestPki();
  const work = mkdtempSync(join(tmpdir(), 'cert-engine-bench-'));
  let cluster: PostgresCluster | null = null;
  try {
    // Production durability (fsync, synchronous commit) on PostgreSQL; SQLite runs as the server
    // configures it (WAL, synchronous=NORMAL: no fsync at each commit).
    cluster = await startPostgresCluster({ durable: true });
    const register = await buildLoadRegister(pki, join(work, 'cards'), CONFIG.households);
    const seeded = await seedLoadDataDir(join(work, 'sqlite'), pki, register, CONFIG.kiosks);
    // One seeded database, copied for each configuration (the same kiosk credentials in every copy).
    // Commits are asynchronous as SQLite's are (WAL, synchronous=NORMAL), except in the "sync commit" row.
    const pgSeeded = await seedLoadDataDir({ dataDir: '', databaseUrl: await createDatabase(cluster.adminUrl, 'bench_pg') }, pki, register, CONFIG.kiosks);
    const copy = (name: string, asyncCommit: boolean) => createDatabase(cluster!.adminUrl, name, 'bench_pg', { asyncCommit });
    const pgKiosks = pgSeeded.kiosks.map((k) => k.credential);
    const pgNodes = (url: string, n: number) => Array.from({ length: n }, () => new LoadServer('', UNLIMITED_RATE_LIMITS, 60_000, { databaseUrl: url }));
    const results: EngineResult[] = [];
    results.push(await measureEngine('SQLite, 1 node', [new LoadServer(join(work, 'sqlite'), UNLIMITED_RATE_LIMITS)], register, seeded.kiosks.map((k) => k.credential), work));
    results.push(await measureEngine('PostgreSQL, 1', pgNodes(await copy('bench_pg1', true), 1), register, pgKiosks, work));
    results.push(await measureEngine('PostgreSQL, 3', pgNodes(await copy('bench_pg3', true), 3), register, pgKiosks, work));
    results.push(await measureEngine('PG 1, sync commit', pgNodes(await copy('bench_pg1_sync', false), 1), register, pgKiosks, work));

    console.log('\n  audit appends under the advisory lock (PostgreSQL):');
    const appends = { async: await copy('bench_appends', true), sync: await copy('bench_appends_sync', false) };
    for (const [nodes, concurrency, commit] of [
      [1, 1, 'async'],
      [1, 8, 'async'],
      [3, 8, 'async'],
      [3, 8, 'sync'],
    ] as const) {
      console.log(`    ${commit} commit, ${await measureAppendLock(appends[commit], nodes, concurrency)}`);
    }

    console.log('\n  side by side (complete flows through the wire; push = claim → request on the device, across nodes with 3):');
    for (const r of results) {
      const levels = r.levels.map((l) => `c=${l.concurrency} ${l.perSecond.toFixed(1)} flows/s p99 ${ms(l.total.p99)} ms (node CPU ${ms(l.cpuMsPerFlow)} ms a flow)`).join('; ');
      console.log(`    ${r.name.padEnd(16)} ${levels}; push p99 ${ms(r.push.p99)} ms`);
    }
    const cross = results[2]!.push;
    console.log(`    ${cross.p99 < 100 ? 'PASS' : 'FAIL'}  cross-node event p99 target < 100 ms: measured ${ms(cross.p99)} ms`);
    console.log('    (2 cores shared by the nodes, PostgreSQL and the generators: these show overhead and correctness, not scaling.)');
  } finally {
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runEngineBench();
