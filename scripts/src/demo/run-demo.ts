import { formatReceiptNumber, type IssuanceStatus } from '@cert/common';
import { ApplicantApi, ApplicantSocketClient, DeviceKey } from 'desktop-applicant';
import { KioskApi } from 'kiosk-shell';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTestPki } from '../pki/test-pki.ts';
import { REPO_ROOT, startServerProcess } from '../rig/server-process.ts';
import { softwareToken } from '../rig/software-token.ts';
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
  const endpoint = { baseUrl: server.url };
  const resident = pki.residents[values.resident!];
  if (!resident) throw new Error(`no test card for resident ${values.resident}`);
  const device = DeviceKey.loadOrCreate(join(work, 'applicant', 'device-key.der'));
  const applicant = new ApplicantApi(endpoint);
  const login = await applicant.login(softwareToken(resident.auth), device);
  say('applicant logged in with the JPKI authentication certificate', login.resident.displayName);
  const catalog = await applicant.catalog();
  say('catalog', catalog.certificateTypes.map((t) => `${t.name.ja} ¥${t.fee}`).join(', '));
  const application = await applicant.apply({ certificateType: 'juminhyo', options: { scope: 'household' }, copies: 1 });
  say('application submitted', `receipt number ${formatReceiptNumber(application.receiptNumber)}, fee ¥${application.fee}, expires ${application.expiresAt}`);

  const lifecycle: string[] = [`application:${application.status}`];
  const socket = new ApplicantSocketClient(endpoint, device);
  socket.on('application-status', (s) => lifecycle.push(`application:${s.status}`));
  socket.on('confirmation-request', (r) => {
    say('print confirmation request on the applicant device', `${r.kiosk.name} (${r.kiosk.location}), ${r.copies} copy, ¥${r.fee}`);
    socket.respond(r.requestId, true);
    say('applicant approved (signed with the device key)');
  });
  socket.start();
  await socket.whenAuthenticated();
  say('applicant socket authenticated with the device key');

  const kiosk = new KioskApi(endpoint, seeded.kiosks[0]!.credential);
  const issuance = await kiosk.start(application.receiptNumber);
  lifecycle.push(`issuance:${issuance.status}`);
  say('kiosk entered the receipt number', `issuance ${issuance.issuanceId}`);
  let status: IssuanceStatus = issuance.status;
  while (status === 'confirmation_pending') {
    status = await kiosk.status(issuance.issuanceId, 25_000, status);
    lifecycle.push(`issuance:${status}`);
  }
  if (status !== 'approved') throw new Error(`issuance ended ${status}`);
  const pdf = await kiosk.document(issuance.issuanceId);
  lifecycle.push('issuance:delivered');
  const outDir = join(REPO_ROOT, '.demo-data', 'output');
  mkdirSync(outDir, { recursive: true });
  const pdfPath = join(outDir, `juminhyo-${application.receiptNumber}.pdf`);
  writeFileSync(pdfPath, pdf);
  say('kiosk received the certificate', `${pdf.length} bytes`);
  const final = await kiosk.result(issuance.issuanceId, 'printed');
  lifecycle.push(`issuance:${final}`);
  await new Promise((r) => setTimeout(r, 200));
  socket.stop();

  console.log('');
  console.log(`receipt number : ${formatReceiptNumber(application.receiptNumber)}`);
  console.log(`lifecycle      : ${lifecycle.join(' → ')}`);
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
