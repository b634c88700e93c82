import { formatReceiptNumber } from '@cert/common';
import { DeviceKey } from 'desktop-applicant';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTestPki } from '../pki/test-pki.ts';
import { REPO_ROOT, startServerProcess } from '../rig/server-process.ts';
import { softwareToken } from '../rig/software-token.ts';
import { runScriptedFlow } from './scripted-flow.ts';
import { seedDemo } from './seed-demo.ts';

const { values } = parseArgs({ options: { keep: { type: 'boolean', default: false }, resident: { type: 'string', default: 'R0001' } } });
const t0 = performance.now();
const say = (step: string, detail = '') => console.log(`[${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s] ${step}${detail ? `: ${detail}` : ''}`);

const pki = await ensureTestPki();
say('test PKI ready', pki.dir);
const work = mkdtempSync(join(REPO_ROOT, '.demo-data', 'run-').replace(/run-$/, '') + 'run-');
const dataDir = join(work, 'server');
const seeded = await seedDemo(dataDir, pki);
say('demo municipality seeded', `テスト市 (999991), ${Object.keys(pki.residents).length} cards linked, ${seeded.kiosks.length} kiosks`);

const server = await startServerProcess(['--data-dir', dataDir, '--confirmation-timeout-seconds', '60']);
say('server listening', server.url);
const cleanup = async () => {
  await server.stop();
  if (!values.keep) rmSync(work, { recursive: true, force: true });
};

try {
  const resident = pki.residents[values.resident!];
  if (!resident) throw new Error(`no test card for resident ${values.resident}`);
  const device = DeviceKey.loadOrCreate(join(work, 'applicant', 'device-key.der'));
  const flow = await runScriptedFlow({ baseUrl: server.url }, softwareToken(resident.auth), device, seeded.kiosks[0]!.credential, say);
  const outDir = join(REPO_ROOT, '.demo-data', 'output');
  mkdirSync(outDir, { recursive: true });
  const pdfPath = join(outDir, `juminhyo-${flow.receiptNumber}.pdf`);
  writeFileSync(pdfPath, flow.pdf);
  console.log('');
  console.log(`receipt number : ${formatReceiptNumber(flow.receiptNumber)}`);
  console.log(`lifecycle      : ${flow.lifecycle.join(' → ')}`);
  console.log(`document       : ${pdfPath}`);
  console.log(`server         : ${server.url}${values.keep ? ' (kept running; Ctrl-C to stop)' : ''}`);
  console.log(`total          : ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  if (values.keep) {
    console.log(`kiosk credential: ${seeded.kiosks[0]!.credential}`);
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
} catch (e) {
  console.error(`demo failed: ${(e as Error).message}\n${server.stderr().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
