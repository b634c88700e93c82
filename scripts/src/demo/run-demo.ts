import { CERTIFICATE_TYPES, formatReceiptNumber, type CertificateType, type PrintConfirmationRequest } from '@cert/common';
import { ApplicantCore } from 'desktop-applicant';
import { PHONE_APP_PATH } from '@cert/common';
import { startApplicantWebHost } from 'desktop-applicant/web-host';
import { CashPayment, IppPrinter, KioskApi, KioskSession, type KioskProgress } from 'kiosk-shell';
import { startKioskWebHost } from 'kiosk-shell/web-host';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../rig/server-process.ts';
import { startDeviceRig } from '../rig/device-rig.ts';
import { untilEvent } from '../rig/until-event.ts';
import { startVirtualCashUnit, type VirtualCashUnit } from '../rig/virtual-cash-unit.ts';
import { createInterface } from 'node:readline';
import { buildApp } from '../build/build-apps.ts';
import { DEMO_KIOSKS } from './seed-demo.ts';
import { DEFAULT_AUTH_PIN } from '../virtual-card/persona.ts';

const { values } = parseArgs({
  options: {
    keep: { type: 'boolean', default: false },
    web: { type: 'boolean', default: false },
    resident: { type: 'string', default: 'R0001' },
    type: { type: 'string', default: 'juminhyo' },
  },
});
/** What the demo asks for, per type: the whole household, every optional item, R0001's own 戸籍 entry. */
const DEMO_ORDERS: Record<CertificateType, Record<string, string>> = {
  juminhyo: { scope: 'household', domicile: 'include' },
  juminhyo_kisai: { scope: 'household', residentSince: 'include', addressSince: 'include' },
  inkan: {},
  kazei: {},
  koseki_zenbu: {},
  koseki_kojin: { persons: '1' },
  koseki_fuhyo: { honseki: 'include' },
};
if (values.type !== 'all' && !(CERTIFICATE_TYPES as readonly string[]).includes(values.type!)) {
  console.error(`--type must be one of ${CERTIFICATE_TYPES.join(', ')} or all`);
  process.exit(2);
}
const types: CertificateType[] = values.type === 'all' ? [...CERTIFICATE_TYPES] : [values.type as CertificateType];
const t0 = performance.now();
const say = (step: string, detail = '') => console.log(`[${((performance.now() - t0) / 1000).toFixed(2).padStart(6)} s] ${step}${detail ? `: ${detail}` : ''}`);

say('starting pcscd with vpcd readers, ippeveprinter and the issuance server');
const rig = await startDeviceRig({ serverProcess: true });
say('server listening', rig.serverUrl);
say('virtual printer', rig.printer.uri);
const cashUnit: VirtualCashUnit = await startVirtualCashUnit();
say('virtual cash unit (ccTalk coin acceptor, bill validator, hoppers) on a socat pty', cashUnit.serialPath);
let applicant: ApplicantCore | null = null;
let cash: CashPayment | null = null;
try {
  await rig.insertCardProcess(values.resident!);
  say(`virtual My Number card of ${values.resident} inserted`, rig.slots[0]!.readerName);
  if (values.web) {
    await runWebMode();
    process.exit(process.exitCode ?? 0);
  }

  applicant = new ApplicantCore({ dataDir: join(rig.work, 'applicant') });
  applicant.start();
  const catalog = await applicant.connect(rig.serverUrl);
  say('applicant app connected to the municipality', `${catalog.municipality.name}: ${catalog.certificateTypes.map((t) => `${t.name.ja} ¥${t.fee}`).join(', ')}`);
  const info = await new Promise<{ triesLeft: number; kind: string }>((resolve, reject) => {
    const check = () => {
      const s = applicant!.card.status;
      if (s.state === 'card_ready') resolve(s.info);
      else if (s.state === 'card_error') reject(new Error(s.error.message));
    };
    applicant!.on('card', check);
    check();
    setTimeout(() => reject(new Error(`no card ready: ${applicant!.card.status.state}`)), 15_000).unref();
  });
  say('card read through PC/SC', `${info.kind}, PIN tries left ${info.triesLeft}`);
  const login = await applicant.login(DEFAULT_AUTH_PIN);
  say('PIN verified on the card and card-signed login accepted', login.resident.displayName);
  await applicant.whenConnected();
  cash = await CashPayment.open(cashUnit.serialPath);
  const kiosk = new KioskSession(new KioskApi({ baseUrl: rig.serverUrl }, rig.kiosks[0]!.credential), new IppPrinter(rig.printer.uri), { payment: cash });
  const outDir = join(REPO_ROOT, '.demo-data');
  mkdirSync(outDir, { recursive: true });
  const printed: { type: CertificateType; receipt: string; lifecycle: string[]; jobId: number | string; bytes: number; path: string; money: string }[] = [];
  for (const type of types) {
    const application = await applicant.apply({ certificateType: type, options: DEMO_ORDERS[type], copies: 1 });
    say(`application for ${type} submitted`, `receipt number ${formatReceiptNumber(application.receiptNumber)} (valid until ${application.expiresAt})`);

    const lifecycle: string[] = [`application:${application.status}`];
    const onReceipts = (rs: { applicationId: string; status: string }[]) => {
      const r = rs.find((x) => x.applicationId === application.applicationId);
      if (r && lifecycle.at(-1) !== `application:${r.status}`) lifecycle.push(`application:${r.status}`);
    };
    const onRequest = (r: PrintConfirmationRequest) => {
      say('print confirmation request on the applicant device', `${r.kiosk.name} (${r.kiosk.location}), ${r.copies} copy, ¥${r.fee}`);
      applicant!.respond(r.requestId, true);
      say('resident approved on the applicant device (signed with the device key)');
    };
    const onProgress = (p: KioskProgress) => {
      const step = p.kind === 'claimed' ? `issuance:${p.issuance.status}` : p.kind === 'issuance-status' ? `issuance:${p.status}` : null;
      if (step && lifecycle.at(-1) !== step) lifecycle.push(step);
      if (p.kind === 'phase') say(`kiosk: ${p.phase}`);
      if (p.kind === 'job') say(`kiosk: printer job ${p.job.state}`);
      if (p.kind === 'payment') say(`kiosk: payment ${p.payment.state}`, `¥${p.payment.inserted} of ¥${p.payment.due} inserted${p.payment.paidOut ? `, ¥${p.payment.paidOut} paid out` : ''}`);
      // The resident pays the fee with a ¥100 coin and a ¥1,000 note: the kiosk gives change.
      if (p.kind === 'payment' && p.payment.state === 'inserting' && p.payment.inserted === 0 && p.payment.accepting.length > 0) {
        say('resident inserts a ¥100 coin and a ¥1,000 note into the virtual cash unit');
        cashUnit.insertCoin(100);
        setTimeout(() => cashUnit.insertNote(), 300);
      }
    };
    applicant.on('receipts', onReceipts);
    applicant.on('confirmation-request', onRequest);
    kiosk.on('progress', onProgress);
    try {
      say('kiosk: receipt number typed', formatReceiptNumber(application.receiptNumber));
      const outcome = await kiosk.issue(formatReceiptNumber(application.receiptNumber));
      if (outcome.status !== 'printed') throw new Error(`the kiosk ended with ${outcome.status}: ${outcome.error ?? ''}`);
      const pay = outcome.payment;
      const money = pay ? `fee ¥${pay.due}, inserted ¥${pay.inserted}, change ¥${pay.change} (${pay.payouts.map((c) => `${c.count}×¥${c.yen}`).join(' + ') || 'none'})` : 'free';
      // The applicant hears of "printed" over its socket, a moment after the kiosk reported it.
      await untilEvent(applicant, 'receipts', () => lifecycle.includes('application:printed'), 'the applicant to see its application printed', 5000);
      const doc = rig.printer.documents().at(-1);
      if (!doc) throw new Error('the printer received no document');
      const kept = join(outDir, `printed-${type}-${application.receiptNumber}.pdf`);
      copyFileSync(doc.path, kept);
      printed.push({ type, receipt: formatReceiptNumber(application.receiptNumber), lifecycle, jobId: outcome.jobId ?? doc.jobId, bytes: doc.bytes, path: values.keep ? doc.path : kept, money });
    } finally {
      applicant.off('receipts', onReceipts);
      applicant.off('confirmation-request', onRequest);
      kiosk.off('progress', onProgress);
    }
  }

  for (const p of printed) {
    console.log('');
    console.log(`certificate    : ${p.type}`);
    console.log(`receipt number : ${p.receipt}`);
    console.log(`lifecycle      : ${p.lifecycle.join(' → ')}`);
    console.log(`payment        : ${p.money}`);
    console.log(`printer job    : ${p.jobId} (${p.bytes} bytes)`);
    console.log(`printed PDF    : ${p.path}${values.keep ? '' : ' (copied from the printer spool, which is removed on exit)'}`);
  }
  console.log(`wall time      : ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  if (values.keep) {
    console.log('');
    console.log(`everything keeps running (Ctrl-C to stop): server ${rig.serverUrl}, printer ${rig.printer.uri}, reader "${rig.slots[0]!.readerName}"`);
    console.log(`kiosk credential: ${rig.kiosks[0]!.credential}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
  }
} catch (e) {
  console.error(`demo failed: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  applicant?.stop();
  await cash?.close();
  await cashUnit.stop();
  await rig.close();
}

/** `--web`: both UIs in web mode over the same devices, until Ctrl-C. */
async function runWebMode(): Promise<void> {
  await buildApp('desktop-applicant');
  await buildApp('kiosk-shell');
  const applicantUi = await startApplicantWebHost({ dataDir: join(rig.work, 'applicant-web'), serverUrl: rig.serverUrl });
  const kiosk = rig.kiosks[0]!;
  const kioskUi = await startKioskWebHost({
    endpoint: { baseUrl: rig.serverUrl },
    credential: kiosk.credential,
    printerUri: rig.printer.uri,
    storeName: kiosk.name,
    location: DEMO_KIOSKS[0].location,
    inactivityMs: 90_000,
    decisionTimeoutMs: 150_000,
    printTimeoutMs: 120_000,
    adminCode: null,
    stateDir: join(rig.work, 'kiosk-state'),
    payment: { mode: 'cash', device: 'cctalk', serialPath: cashUnit.serialPath, idleTimeoutSeconds: 120 },
  });
  // The resident's hand at the cash unit: the terminal takes coins and notes while the kiosk asks for the fee.
  const hand = createInterface({ input: process.stdin });
  hand.on('line', (line) => {
    const v = line.trim();
    if (v === '1000') cashUnit.insertNote();
    else if (['10', '50', '100', '500'].includes(v)) cashUnit.insertCoin(Number(v) as 10 | 50 | 100 | 500);
    else if (v) console.log('type 10, 50, 100, 500 (coins) or 1000 (note) and Enter');
  });
  console.log('');
  console.log(`applicant UI : ${applicantUi.url}`);
  console.log(`kiosk UI     : ${kioskUi.url}`);
  // The phone app's origin is `localhost` (WebAuthn takes no IP address as its RP ID).
  console.log(`phone app    : ${new URL(PHONE_APP_PATH, rig.serverUrl.replace('127.0.0.1', 'localhost')).href}`);
  console.log('               pair it from the applicant UI (スマートフォン → スマートフォンを登録) and open the pairing URL shown there');
  console.log('               in a browser on this machine (a passkey needs a platform authenticator, e.g. Chrome DevTools → WebAuthn)');
  console.log(`card PIN     : ${DEFAULT_AUTH_PIN} (virtual card of ${values.resident} in "${rig.slots[0]!.readerName}")`);
  console.log(`printer spool: ${rig.printer.spoolDir}`);
  console.log('cash unit    : when the kiosk asks for the fee, type 10, 50, 100, 500 (coins) or 1000 (note) and Enter here');
  console.log('Ctrl-C stops everything.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  hand.close();
  await kioskUi.close();
  await applicantUi.close();
  await cashUnit.stop();
  await rig.close();
}
