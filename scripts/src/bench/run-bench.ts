import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceKey } from 'desktop-applicant';
import { createLogger, defaultServerConfig, startServer } from 'issuance-server';
import { runScriptedFlow } from '../demo/scripted-flow.ts';
import { seedDemo } from '../demo/seed-demo.ts';
import { ensureTestPki } from '../pki/test-pki.ts';
import { softwareToken } from '../rig/software-token.ts';
import { stats } from './bench-stats.ts';
import { benchDocuments } from './document-bench.ts';

const FLOWS = Number(process.env['BENCH_FLOWS'] ?? 20);

const pki = await ensureTestPki();
const work = mkdtempSync(join(tmpdir(), 'cert-bench-'));
try {
  // Certificate PDFs: through the render pool, and the subsetters compared.
  await benchDocuments();

  // Whole flows through the wire contract against one in-process server.
  const dataDir = join(work, 'server');
  const seeded = await seedDemo(dataDir, pki);
  const server = await startServer({ ...defaultServerConfig(dataDir), port: 0, logLevel: 'warn', kioskRateLimit: { burst: 1000, perMinute: 6000 }, authAddressRateLimit: { burst: 1000, perMinute: 6000 } }, createLogger('warn'));
  try {
    const token = softwareToken(pki.residents['R0001']!.auth);
    const device = DeviceKey.loadOrCreate(join(work, 'device-key.der'));
    const totals: number[] = [];
    const parts: Record<string, number[]> = {};
    for (let i = 0; i < FLOWS; i++) {
      const t = performance.now();
      const flow = await runScriptedFlow({ baseUrl: server.url }, token, device, seeded.kiosks[0]!.credential);
      totals.push(performance.now() - t);
      for (const [k, v] of Object.entries(flow.timings)) (parts[k] ??= []).push(v);
    }
    console.log(`full flow (login → apply → claim → approve → document → printed): ${stats(totals.slice(1))}`);
    for (const [k, v] of Object.entries(parts)) console.log(`  ${k.padEnd(9)} ${stats(v.slice(1))}`);
    const audit = await server.context.admin.verifyAudit();
    console.log(`audit log rows: ${audit.rows}, intact: ${audit.firstBad === null}`);
  } finally {
    await server.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Storage engines side by side (issue 10): SQLite, PostgreSQL with one and with three nodes.
await (await import('./engine-bench.ts')).runEngineBench();

// Load benchmark (issue 7): its own server process, load generators and PASS/FAIL report.
await (await import('./load-bench.ts')).runLoadBench();
