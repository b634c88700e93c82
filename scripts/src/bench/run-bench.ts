import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceKey } from 'desktop-applicant';
import { createLogger, defaultServerConfig, startServer } from 'issuance-server';
// The server does not export its PDF renderer yet; these two go through 'issuance-server' once it does.
// eslint-disable-next-line import-x/no-relative-packages
import { loadFontBytes } from '../../../issuance-server/src/documents/font-source.ts';
// eslint-disable-next-line import-x/no-relative-packages
import { renderJuminhyo } from '../../../issuance-server/src/documents/juminhyo-document.ts';
import { runScriptedFlow } from '../demo/scripted-flow.ts';
import { seedDemo } from '../demo/seed-demo.ts';
import { ensureTestPki } from '../pki/test-pki.ts';
import { softwareToken } from '../rig/software-token.ts';

/** Median and 90th percentile of a list of milliseconds. */
function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `median ${at(0.5).toFixed(1)} ms, p90 ${at(0.9).toFixed(1)} ms, n=${s.length}`;
}

const FLOWS = Number(process.env['BENCH_FLOWS'] ?? 20);
const RENDERS = Number(process.env['BENCH_RENDERS'] ?? 30);

const pki = await ensureTestPki();
const work = mkdtempSync(join(tmpdir(), 'cert-bench-'));
try {
  // One PDF: render the household certificate with the font bytes already loaded.
  const font = await loadFontBytes();
  const renders: number[] = [];
  let size = 0;
  for (let i = 0; i < RENDERS; i++) {
    const t = performance.now();
    const pdf = await renderJuminhyo(
      {
        municipality: { code: '999991', name: 'テスト市' },
        address: 'テスト市本町一丁目2番3号',
        householdHeadName: '山田 太郎',
        entries: [
          { name: '山田 太郎', nameKana: 'ヤマダ タロウ', birthDate: '1985-04-12', sex: '1', relationshipToHead: '世帯主' },
          { name: '山田 花子', nameKana: 'ヤマダ ハナコ', birthDate: '1987-09-30', sex: '2', relationshipToHead: '妻' },
          { name: '山田 一郎', nameKana: 'ヤマダ イチロウ', birthDate: '2015-01-05', sex: '1', relationshipToHead: '子' },
        ],
        options: { scope: 'household', includeDomicile: false, includeRelationship: true },
        copies: 1,
        issuedAt: new Date(),
        verificationCode: 'K7QM-2XWD-9HFA-3TRC',
        verificationUrl: 'https://cert.example.lg.jp/verify/K7QM-2XWD-9HFA-3TRC',
      },
      font,
    );
    renders.push(performance.now() - t);
    size = pdf.length;
  }
  console.log(`pdf render (juminhyo, household of 3): first ${renders[0]!.toFixed(1)} ms; warm ${stats(renders.slice(1))}; ${size} bytes`);

  // Whole flows through the wire contract against one in-process server.
  const dataDir = join(work, 'server');
  const seeded = await seedDemo(dataDir, pki);
  const server = await startServer({ ...defaultServerConfig(dataDir), port: 0, logLevel: 'warn', kioskRateLimit: { burst: 1000, perMinute: 6000 } }, createLogger('warn'));
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

// Load benchmark (issue 7): its own server process, load generators and PASS/FAIL report.
await (await import('./load-bench.ts')).runLoadBench();
