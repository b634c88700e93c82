// Incidents A, C and G (domain.md §3.1, 1, 2 and 9): many kiosks at once, two kiosks typing the
// same receipt, approvals racing the timeout. Every printed PDF is read back with pdftotext and
// must name the resident whose receipt was typed, and nobody outside what the application asked for.
// The storm's kiosks take the fee (issue 11) and report every yen with the result or the abandon,
// some reports twice; the settlement report must then equal, to the yen, what the server accepted.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  countPieces,
  paymentCollected,
  paymentReportSchema,
  verifyResponseSchema,
  type Application,
  type CertificateType,
  type CreateApplicationRequest,
  type IssuanceStatus,
  type PaymentReport,
} from '@cert/common';
import { callJson, ContractError } from '@cert/common/node';
import { KioskApi } from 'kiosk-shell';
import { awaitDecision } from '@cert/scripts/load';
import { LoadServer, seedLoadDataDir, UNLIMITED_RATE_LIMITS } from '@cert/scripts/load';
import { ResidentAgent } from '@cert/scripts/load';
import { buildLoadRegister, type LoadRegister, type RegisterPerson } from '@cert/scripts/load';
import { ensureTestPki, type TestPkiManifest } from '@cert/scripts/pki';
import { SERVER_BIN, softwareToken } from '@cert/scripts/rig';
import { eventually } from '../integration/harness.ts';
import { limiter } from '@cert/scripts/load';
import { documentProblems, errorCode, openReadOnly, pdfPages, prng, reportSeedOnFailure, storageViolations, testSeed, verificationCodeOf } from './hostile-helpers.ts';

const PRINTS = Number(process.env['HOSTILE_STORM_PRINTS'] ?? 1000);
const KIOSKS = 100;
// 12 generated households of 1–3 people plus the demo's applicants: 29 residents with cards.
const HOUSEHOLDS = 12;
const TIMEOUT_TRIALS = 64;
/** Stop early once this many violations are in: the report is clear by then. */
const MAX_VIOLATIONS = 50;

/** Coins the hoppers pay `yen` with, largest first (¥100, ¥50 and ¥10 hoppers, as in a store). */
function payoutCoins(yen: number): number[] {
  const out: number[] = [];
  for (const c of [100, 50, 10]) for (; yen >= c; yen -= c) out.push(c);
  return out;
}

/** Random coins adding up to exactly `yen` (a multiple of ¥10). */
function exactCoins(yen: number, rand: () => number): number[] {
  const out: number[] = [];
  while (yen > 0) {
    const fits = [500, 100, 50, 10].filter((c) => c <= yen);
    const c = fits[Math.floor(rand() * fits.length)]!;
    out.push(c);
    yen -= c;
  }
  return out;
}

/**
 * What a resident feeds a paid kiosk until `due` is covered, as a real cash unit allows it: exact
 * coins, a ¥500 coin or a ¥1,000 note with change, sometimes a few coins before the note (the
 * acceptors close once the fee is covered, so only the last piece may overshoot).
 */
function coveringCash(due: number, rand: () => number): number[] {
  const r = rand();
  if (r < 0.4 || due >= 1000) return exactCoins(due, rand);
  if (r < 0.55 && due < 500) return [500];
  const before = rand() < 0.3 ? exactCoins(10 * Math.floor((rand() * (due - 10)) / 10), rand) : [];
  return [...before, 1000];
}

/** Money put in before the resident walked away: at least one coin, less than `due`. */
function partialCash(due: number, rand: () => number): number[] {
  return exactCoins(10 * (1 + Math.floor((rand() * (due - 10)) / 10)), rand);
}

const SLIP_CHARS = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * The payment report of an attempt that took `pieces` for `due`: the change of a covered fee is
 * paid; `keep` false pays the rest back too (a failed print, an abandon). With `owe`, the hoppers
 * run short and part of what should come back (refund first, then change) is owed against `slip`.
 */
function cashReport(due: number, pieces: number[], keep: boolean, owe: { slip: string; fraction: number } | null): PaymentReport {
  const inserted = pieces.reduce((a, b) => a + b, 0);
  let change = Math.max(0, inserted - due);
  let refunded = inserted - change - (keep ? due : 0);
  let refundOwed = 0;
  if (owe && change + refunded > 0) {
    refundOwed = 10 * Math.max(1, Math.round(((change + refunded) / 10) * owe.fraction));
    const fromRefund = Math.min(refundOwed, refunded);
    refunded -= fromRefund;
    change -= refundOwed - fromRefund;
  }
  return paymentReportSchema.parse({
    device: 'cctalk-cash',
    due,
    inserted,
    change,
    refunded,
    refundOwed,
    ...(refundOwed > 0 && owe ? { slipCode: owe.slip } : {}),
    credits: countPieces(pieces),
    payouts: countPieces(payoutCoins(change + refunded)),
  });
}

/** One line of the settlement report, as the storm expects it and as the CSV says it. */
type SettlementLine = { issuances: number; copies: number; feesDue: number; feesCollected: number; refundsPaid: number; refundsOwed: number; refundsOwedSettled: number };
/** The CSV's columns and the line's keys. */
const SETTLEMENT_COLUMNS: [string, keyof SettlementLine][] = [
  ['issuances', 'issuances'],
  ['copies', 'copies'],
  ['fees_due_yen', 'feesDue'],
  ['fees_collected_yen', 'feesCollected'],
  ['refunds_paid_yen', 'refundsPaid'],
  ['refunds_owed_yen', 'refundsOwed'],
  ['refunds_owed_settled_yen', 'refundsOwedSettled'],
];

/** Today in Japan (YYYY-MM-DD), the settlement report's calendar. */
function jstDay(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date());
}

/** The cells of each line of a CSV text (RFC 4180 quoting, CRLF lines, no line breaks inside cells). */
function parseCsv(text: string): string[][] {
  return text
    .split('\r\n')
    .filter((l) => l !== '')
    .map((line) => {
      const cells: string[] = [];
      let cell = '';
      let quoted = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i]!;
        if (quoted && ch === '"' && line[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (ch === '"') {
          quoted = !quoted;
        } else if (ch === ',' && !quoted) {
          cells.push(cell);
          cell = '';
        } else {
          cell += ch;
        }
      }
      cells.push(cell);
      return cells;
    });
}

describe('hostile: a storm of kiosks', function () {
  this.timeout(180_000);
  const seed = testSeed();
  reportSeedOnFailure(seed);
  let pki: TestPkiManifest;
  let work: string;
  let register: LoadRegister;
  let people: Map<string, RegisterPerson>;
  const servers: LoadServer[] = [];
  const agents: ResidentAgent[] = [];
  /** Verification codes of every PDF handed out: none may repeat. */
  const codes = new Set<string>();
  const pdfCheck = limiter(2);

  before(async () => {
    pki = await ensureTestPki();
    work = mkdtempSync(join(tmpdir(), 'hostile-storm-'));
    register = await buildLoadRegister(pki, join(work, 'cards'), HOUSEHOLDS);
    people = new Map(register.people.map((p) => [p.id, p]));
  });

  after(async () => {
    for (const a of agents) a.stop();
    await Promise.all(servers.map((s) => s.dispose()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** A seeded server through the CLI with `kiosks` kiosks, and their clients. */
  async function startServer(name: string, kiosks: number, args: string[]): Promise<{ server: LoadServer; kiosks: KioskApi[]; kioskIds: string[] }> {
    const server = new LoadServer(join(work, name), [...UNLIMITED_RATE_LIMITS, ...args]);
    servers.push(server);
    const seeded = await seedLoadDataDir(server.dataDir, pki, register, kiosks);
    await server.start();
    return { server, kiosks: seeded.kiosks.map((k) => new KioskApi(server.endpoint, k.credential)), kioskIds: seeded.kiosks.map((k) => k.id) };
  }

  /** Logs in every resident with a card (or the first `limit`), each with its own device, sockets open. */
  function residents(server: LoadServer, limit = Infinity): Promise<ResidentAgent[]> {
    return Promise.all(
      Object.entries(register.cards)
        .slice(0, limit)
        .map(async ([id, card]) => {
          const agent = await ResidentAgent.login(server.endpoint, id, softwareToken(card), join(work, 'keys', `${server.dataDir.split('/').pop()}-${id}.der`));
          agents.push(agent);
          await agent.connect();
          return agent;
        }),
    );
  }

  /** Reads a printed PDF back: right resident on every page, nobody else, a fresh verification code that verifies. */
  async function printedProblems(server: LoadServer, agent: ResidentAgent, app: Application, pdf: Buffer): Promise<string[]> {
    const pages = await pdfPages(pdf);
    const problems = documentProblems(pages, people.get(agent.residentId)!, app.options['scope'] ?? 'self', app.copies, register.people);
    const code = verificationCodeOf(pages);
    if (!code) problems.push('no verification code on the document');
    else {
      if (codes.has(code)) problems.push(`verification code ${code} was on another document too`);
      codes.add(code);
      const verified = await callJson(server.endpoint, { method: 'GET', path: `/api/v1/verify/${code}` }, verifyResponseSchema);
      const sha = createHash('sha256').update(pdf).digest('hex');
      if (verified.documentSha256 !== sha) problems.push(`the verification page has hash ${verified.documentSha256}, the kiosk got ${sha}`);
    }
    return problems.map((p) => `receipt ${app.receiptNumber} (${agent.residentId}): ${p}`);
  }

  /** Asserts a call is refused with `status code`; records anything else. */
  async function expectRefusal(violations: string[], what: string, call: Promise<unknown>, status: number, ...codes: string[]): Promise<void> {
    try {
      await call;
      violations.push(`${what}: succeeded, expected ${status} ${codes.join('/')}`);
    } catch (e) {
      if (!(e instanceof ContractError && e.status === status && codes.includes(e.code))) violations.push(`${what}: ${errorCode(e)}, expected ${status} ${codes.join('/')}`);
    }
  }

  it('1,000+ complete paid flows over 100 kiosks: each print names the typed receipt’s resident, once; races, declines, abandons, failed prints, retried reports and peeks mixed in; settlement equals the payments to the yen', async () => {
    const { server, kiosks, kioskIds } = await startServer('storm', KIOSKS, []);
    const firstDay = jstDay();
    const crew = await residents(server);
    assert.ok(crew.length >= 20, `only ${crew.length} residents can apply`);
    const fees = new Map((await crew[0]!.api.catalog()).certificateTypes.map((t) => [t.type, t.fee]));
    // Residents who can get a 課税証明書 (a tax record with a declaration: a trial application,
    // withdrawn at once, tells) also ask for one: another type, another fee.
    const canGetKazei = async (a: ResidentAgent) => {
      if ((await a.api.subjects()).taxYears.length === 0) return null;
      const trial = await a.api.apply({ certificateType: 'kazei', options: {}, copies: 1 }).catch(() => null);
      if (trial) await a.api.cancel(trial.applicationId);
      return trial ? a.residentId : null;
    };
    const taxed = new Set((await Promise.all(crew.map(canGetKazei))).filter((id) => id !== null));
    assert.ok(taxed.size > 0 && fees.get('kazei') !== fees.get('juminhyo'), `the storm needs a second fee: ${taxed.size} taxed residents, fees ${JSON.stringify([...fees])}`);
    const violations: string[] = [];
    const printed = new Map<string, string>(); // receipt → issuance that printed it
    const printedFor = new Set<string>();
    const tally = {
      printed: 0,
      races: 0,
      slowRaces: 0,
      raceRefusals: {} as Record<string, number>,
      declined: 0,
      abandoned: 0,
      paidAbandons: 0,
      printFailures: 0,
      retriedReports: 0,
      concurrentRetries: 0,
      reprintsRefused: 0,
      peeks: 0,
    };
    /** Every payment the server accepted, by issuance: a report sent twice is one payment. */
    const ledger = new Map<string, { kiosk: number; certificateType: string; copies: number; printed: boolean; payment: PaymentReport }>();
    const slips = new Set<string>();
    /** A fresh refund slip code (the kiosk makes one per shortfall). */
    const slipCode = (rand: () => number) => {
      for (;;) {
        const part = () => Array.from({ length: 4 }, () => SLIP_CHARS[Math.floor(rand() * SLIP_CHARS.length)]).join('');
        const code = `R-${part()}-${part()}`;
        if (slips.has(code)) continue;
        slips.add(code);
        return code;
      }
    };
    /** With probability `p` the hoppers run short and part of the payback is owed. */
    const shortfall = (rand: () => number, p: number) => (rand() < p ? { slip: slipCode(rand), fraction: rand() } : null);
    /** Sends a report, sometimes twice with the same body (one after the other, or both at once): every answer must be `expected`. */
    const report = async (what: string, send: () => Promise<IssuanceStatus>, expected: IssuanceStatus, rand: () => number) => {
      const r = rand();
      const answers = r < 0.06 ? await Promise.all([send(), send()]) : r < 0.12 ? [await send(), await send()] : [await send()];
      if (answers.length > 1) tally.retriedReports++;
      if (r < 0.06) tally.concurrentRetries++;
      for (const a of answers) if (a !== expected) violations.push(`${what}: answered ${a}, expected ${expected}`);
    };
    const checks: Promise<void>[] = [];
    const done = () => tally.printed >= PRINTS || violations.length >= MAX_VIOLATIONS;
    const otherKiosk = (k: number, rand: () => number) => kiosks[(k + 1 + Math.floor(rand() * (KIOSKS - 1))) % KIOSKS]!;

    /** After a claim: another kiosk must see nothing of it; the approval arrives; document; printed. */
    const printClaimed = async (k: number, kiosk: KioskApi, agent: ResidentAgent, app: Application, issuanceId: string, rand: () => number): Promise<void> => {
      const peeker = otherKiosk(k, rand);
      const what = `kiosk ${k} issuance ${issuanceId} seen by another kiosk`;
      await expectRefusal(violations, `${what} (status)`, peeker.status(issuanceId, 0), 404, 'not_found');
      await expectRefusal(violations, `${what} (document)`, peeker.document(issuanceId), 404, 'not_found');
      if (rand() < 0.1) {
        // With money too: a payment reported by another kiosk must not reach the settlement.
        const foreign = cashReport(app.fee, exactCoins(app.fee, rand), true, null);
        await expectRefusal(violations, `${what} (result)`, peeker.result(issuanceId, 'printed', undefined, rand() < 0.5 ? foreign : undefined), 404, 'not_found');
        await expectRefusal(violations, `${what} (abandon)`, peeker.abandon(issuanceId, rand() < 0.5 ? foreign : undefined), 404, 'not_found');
      }
      tally.peeks++;
      const decision = await awaitDecision(kiosk, issuanceId);
      if (decision !== 'approved') return void violations.push(`receipt ${app.receiptNumber}: approved at once but the kiosk saw ${decision}`);
      const pdf = await kiosk.document(issuanceId);
      const pieces = coveringCash(app.fee, rand);
      if (rand() < 0.06) {
        // The printer jams after the resident paid: the fee goes back (or is owed); the receipt prints elsewhere.
        const payment = cashReport(app.fee, pieces, false, shortfall(rand, 0.4));
        await report(`failed print ${issuanceId}`, () => kiosk.result(issuanceId, 'failed', 'paper jam', payment), 'print_failed', rand);
        ledger.set(issuanceId, { kiosk: k, certificateType: app.certificateType, copies: app.copies, printed: false, payment });
        tally.printFailures++;
        const elsewhere = Math.floor(rand() * KIOSKS);
        return print(elsewhere, kiosks[elsewhere]!, agent, app, rand);
      }
      const payment = cashReport(app.fee, pieces, true, shortfall(rand, 0.08));
      await report(`receipt ${app.receiptNumber}: result printed`, () => kiosk.result(issuanceId, 'printed', undefined, payment), 'printed', rand);
      ledger.set(issuanceId, { kiosk: k, certificateType: app.certificateType, copies: app.copies, printed: true, payment });
      if (printed.has(app.receiptNumber)) violations.push(`receipt ${app.receiptNumber} printed twice (${printed.get(app.receiptNumber)}, ${issuanceId})`);
      printed.set(app.receiptNumber, issuanceId);
      printedFor.add(agent.residentId);
      tally.printed++;
      checks.push(pdfCheck(() => printedProblems(server, agent, app, pdf)).then((p) => void violations.push(...p)));
      if (rand() < 0.05) {
        await expectRefusal(violations, `printed receipt ${app.receiptNumber} typed again`, kiosk.start(app.receiptNumber), 404, 'receipt_not_found');
        tally.reprintsRefused++;
      }
    };

    const print = async (k: number, kiosk: KioskApi, agent: ResidentAgent, app: Application, rand: () => number): Promise<void> => {
      void agent.expectRequest(app.applicationId);
      const issuance = await kiosk.start(app.receiptNumber);
      await printClaimed(k, kiosk, agent, app, issuance.issuanceId, rand);
    };

    /** Two kiosks type the same receipt within 10 ms: exactly one gets it. */
    const race = async (k: number, kiosk: KioskApi, agent: ResidentAgent, app: Application, rand: () => number) => {
      const rival = otherKiosk(k, rand);
      void agent.expectRequest(app.applicationId);
      const sentAt: number[] = [];
      const claim = (api: KioskApi) => {
        sentAt.push(performance.now());
        return api.start(app.receiptNumber);
      };
      const [a, b] = await Promise.allSettled([claim(kiosk), claim(rival)]);
      // A busy machine can deschedule this process between the two sends; such a pair still
      // must have one winner, but only pairs sent within 10 ms count as races.
      if (Math.abs(sentAt[1]! - sentAt[0]!) < 10) tally.races++;
      else tally.slowRaces++;
      const winners = [a, b].filter((r) => r.status === 'fulfilled');
      if (winners.length !== 1) return void violations.push(`race on ${app.receiptNumber}: ${winners.length} kiosks got it`);
      const loser = [a, b].find((r) => r.status === 'rejected')!.reason as unknown;
      const code = loser instanceof ContractError ? `${loser.status} ${loser.code}` : errorCode(loser);
      tally.raceRefusals[code] = (tally.raceRefusals[code] ?? 0) + 1;
      if (code !== '409 issuance_in_progress' && code !== '404 receipt_not_found') violations.push(`race on ${app.receiptNumber}: the losing kiosk got ${code}`);
      const [winner, winnerIndex] = a.status === 'fulfilled' ? [kiosk, k] : [rival, kiosks.indexOf(rival)];
      const issuanceId = (winners[0] as PromiseFulfilledResult<{ issuanceId: string }>).value.issuanceId;
      await printClaimed(winnerIndex, winner, agent, app, issuanceId, rand);
    };

    /** The resident declines: the kiosk sees it, gets no document, and the receipt is printable later. */
    const decline = async (k: number, kiosk: KioskApi, agent: ResidentAgent, app: Application, rand: () => number) => {
      void agent.expectRequest(app.applicationId, { approve: false });
      const issuance = await kiosk.start(app.receiptNumber);
      const decision = await awaitDecision(kiosk, issuance.issuanceId);
      if (decision !== 'declined') violations.push(`receipt ${app.receiptNumber}: declined but the kiosk saw ${decision}`);
      await expectRefusal(violations, `document of declined ${issuance.issuanceId}`, kiosk.document(issuance.issuanceId), 409, 'invalid_state');
      tally.declined++;
      await print(k, kiosk, agent, app, rand);
    };

    /** The resident walks away before or after approving: the kiosk abandons; the receipt prints elsewhere. */
    const abandon = async (k: number, kiosk: KioskApi, agent: ResidentAgent, app: Application, rand: () => number) => {
      const afterApproval = rand() < 0.5;
      const arrival = agent.expectRequest(app.applicationId, afterApproval ? { approve: true } : 'ignore');
      const issuance = await kiosk.start(app.receiptNumber);
      if (afterApproval) {
        const decision = await awaitDecision(kiosk, issuance.issuanceId);
        if (decision !== 'approved') violations.push(`receipt ${app.receiptNumber}: approved but the kiosk saw ${decision}`);
      } else {
        await arrival;
      }
      // Money is taken only after the approval; most who walk away then had put some in.
      const payment = afterApproval && rand() < 0.7 ? cashReport(app.fee, partialCash(app.fee, rand), false, shortfall(rand, 0.25)) : undefined;
      await report(`abandon of ${issuance.issuanceId}`, () => kiosk.abandon(issuance.issuanceId, payment), 'abandoned', rand);
      if (payment) {
        ledger.set(issuance.issuanceId, { kiosk: k, certificateType: app.certificateType, copies: app.copies, printed: false, payment });
        tally.paidAbandons++;
      }
      await expectRefusal(violations, `document of abandoned ${issuance.issuanceId}`, kiosk.document(issuance.issuanceId), 409, 'invalid_state');
      tally.abandoned++;
      const elsewhere = Math.floor(rand() * KIOSKS);
      await print(elsewhere, kiosks[elsewhere]!, agent, app, rand);
    };

    await Promise.all(
      kiosks.map(async (kiosk, k) => {
        const rand = prng(seed + k);
        while (!done()) {
          const agent = crew[Math.floor(rand() * crew.length)]!;
          const type: CertificateType = taxed.has(agent.residentId) && rand() < 0.4 ? 'kazei' : rand() < 0.2 ? 'juminhyo_kisai' : 'juminhyo';
          const copies = rand() < 0.15 ? 2 : 1;
          const order: CreateApplicationRequest = { certificateType: type, options: type === 'kazei' ? {} : { scope: rand() < 0.5 ? 'self' : 'household' }, copies };
          const kind = rand();
          let app: Application | null = null;
          try {
            app = await agent.apply(order);
            if (app.fee !== fees.get(type)! * copies) violations.push(`receipt ${app.receiptNumber}: fee ¥${app.fee} for ${copies} × ${type} at ¥${fees.get(type)}`);
            if (kind < 0.12) await race(k, kiosk, agent, app, rand);
            else if (kind < 0.2) await decline(k, kiosk, agent, app, rand);
            else if (kind < 0.28) await abandon(k, kiosk, agent, app, rand);
            else await print(k, kiosk, agent, app, rand);
          } catch (e) {
            violations.push(`kiosk ${k}, receipt ${app?.receiptNumber ?? '(apply)'}: ${errorCode(e)}`);
          }
        }
      }),
    );
    await Promise.all(checks);

    const strays = agents.flatMap((a) => a.strays.map((r) => `${a.residentId} got the request for receipt ${r.receiptNumber}`));
    assert.deepEqual([...strays, ...violations].slice(0, 30), [], `seed ${seed}; tally ${JSON.stringify(tally)}`);
    assert.ok(tally.printed >= PRINTS, `only ${tally.printed} printed`);
    assert.ok(printedFor.size >= 20, `prints for only ${printedFor.size} distinct residents`);
    assert.ok(tally.races >= 50 && tally.declined >= 20 && tally.abandoned >= 20, `too few special flows: ${JSON.stringify(tally)}`);
    // The applicants' own view agrees: printed exactly what the kiosks printed, nothing else.
    for (const agent of crew) {
      const mine = new Set(agent.applications.keys());
      for (const app of await agent.api.list()) {
        if (!mine.has(app.applicationId)) continue;
        assert.equal(app.status === 'printed', printed.has(app.receiptNumber), `receipt ${app.receiptNumber} is ${app.status}`);
      }
    }

    // The money. Every print was paid, so the issuances are the printed attempts with a payment.
    const payments = [...ledger.values()];
    assert.equal(payments.filter((p) => p.printed).length, tally.printed, 'one accepted payment per printed attempt');
    assert.ok(tally.printFailures >= 10 && tally.paidAbandons >= 10 && tally.retriedReports >= 50 && tally.concurrentRetries >= 20, `too few money flows: ${JSON.stringify(tally)}`);
    assert.ok(payments.some((p) => p.payment.refundOwed > 0 && p.printed) && payments.some((p) => p.payment.refundOwed > 0 && !p.printed), 'change owed and refunds owed both happened');
    assert.ok(new Set(payments.map((p) => p.certificateType)).size >= 3, 'several certificate types were paid for');
    const lastDay = jstDay();
    const expected = (kiosk: number | null) => {
      const lines: Record<string, SettlementLine> = {};
      for (const p of payments.filter((x) => kiosk === null || x.kiosk === kiosk)) {
        const l = (lines[`${kioskIds[p.kiosk]} ${p.certificateType}`] ??= { issuances: 0, copies: 0, feesDue: 0, feesCollected: 0, refundsPaid: 0, refundsOwed: 0, refundsOwedSettled: 0 });
        if (p.printed) {
          l.issuances++;
          l.copies += p.copies;
          l.feesDue += p.payment.due;
        }
        l.feesCollected += paymentCollected(p.payment);
        l.refundsPaid += p.payment.refunded;
        l.refundsOwed += p.payment.refundOwed;
      }
      return lines;
    };
    /** The settlement report as the municipality gets it: the admin CLI's CSV, by kiosk and type, and its TOTAL line. */
    const settlement = (kiosk: number | null) => {
      const csv = join(work, `settlement-${kiosk ?? 'all'}.csv`);
      const args = ['admin', '--data-dir', server.dataDir, 'settlement', 'report', '--from', firstDay, '--to', lastDay, '--csv', csv, ...(kiosk === null ? [] : ['--kiosk', kioskIds[kiosk]!])];
      const cli = spawnSync(SERVER_BIN, args, { encoding: 'utf8' });
      assert.equal(cli.status, 0, cli.stderr);
      const [header, ...body] = parseCsv(readFileSync(csv, 'utf8'));
      const cell = (line: string[], name: string) => line[header!.indexOf(name)]!;
      const numbers = (line: string[]) => Object.fromEntries(SETTLEMENT_COLUMNS.map(([name, key]) => [key, Number(cell(line, name))])) as SettlementLine;
      const lines: Record<string, SettlementLine> = {};
      for (const line of body.slice(0, -1)) lines[`${cell(line, 'kiosk_id')} ${cell(line, 'certificate_type')}`] = numbers(line);
      assert.equal(cell(body.at(-1)!, 'store'), 'TOTAL');
      return { lines, total: numbers(body.at(-1)!) };
    };
    const sumLines = (lines: Record<string, SettlementLine>) =>
      Object.values(lines).reduce((t, l) => Object.fromEntries(SETTLEMENT_COLUMNS.map(([, key]) => [key, t[key] + l[key]])) as SettlementLine, { issuances: 0, copies: 0, feesDue: 0, feesCollected: 0, refundsPaid: 0, refundsOwed: 0, refundsOwedSettled: 0 });
    const all = settlement(null);
    assert.deepEqual(all.lines, expected(null), 'the settlement report by kiosk and type equals the payments accepted');
    const totals = sumLines(expected(null));
    assert.deepEqual(all.total, totals);
    assert.equal(totals.feesCollected, totals.feesDue, 'a paid kiosk collects exactly the fees of what it printed');
    // Per kiosk: the busiest, and the one owing the most.
    const byKiosk = (f: (p: (typeof payments)[number]) => number) => kioskIds.map((_, k) => payments.filter((p) => p.kiosk === k).reduce((a, p) => a + f(p), 0));
    const busiest = byKiosk(() => 1);
    const owing = byKiosk((p) => p.payment.refundOwed);
    for (const k of new Set([busiest.indexOf(Math.max(...busiest)), owing.indexOf(Math.max(...owing))])) {
      const one = settlement(k);
      assert.deepEqual(one.lines, expected(k), `the settlement report of kiosk ${k} equals its payments`);
      assert.deepEqual(one.total, sumLines(expected(k)));
    }
    // Stored once each, audited once each, and the audit chain holds.
    const db = openReadOnly(server.databasePath);
    try {
      assert.deepEqual(storageViolations(db), []);
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      assert.equal(count('SELECT COUNT(*) AS n FROM payments'), ledger.size, 'one payment row per attempt reported with money');
      assert.equal(count(`SELECT COUNT(*) AS n FROM audit_log WHERE event = 'payment.recorded'`), ledger.size, 'one payment.recorded audit row per payment');
    } finally {
      db.close();
    }
    const audit = spawnSync(SERVER_BIN, ['admin', '--data-dir', server.dataDir, 'audit', 'verify'], { encoding: 'utf8' });
    assert.equal(audit.status, 0, audit.stderr);
    assert.match(audit.stdout, /audit log intact/);
    const yen = (f: (p: PaymentReport) => number) => payments.reduce((a, p) => a + f(p.payment), 0);
    const money = { payments: ledger.size, inserted: yen((p) => p.inserted), collected: totals.feesCollected, change: yen((p) => p.change), refunded: totals.refundsPaid, owed: totals.refundsOwed, slips: payments.filter((p) => p.payment.refundOwed > 0).length };
    console.log(`      storm: ${JSON.stringify(tally)}; ${printedFor.size} residents`);
    console.log(`      money (yen): ${JSON.stringify(money)}; by type ${JSON.stringify(Object.fromEntries([...new Set(payments.map((p) => p.certificateType))].map((t) => [t, payments.filter((p) => p.printed && p.certificateType === t).length])))}`);
  });

  it('approvals racing the confirmation timeout: the print goes ahead, or the attempt expires whole and the receipt prints later', async () => {
    const { server, kiosks } = await startServer('timeout', 8, ['--confirmation-timeout-seconds', '1']);
    const crew = await residents(server, 8);
    const rand = prng(seed ^ 0x5eed);
    const violations: string[] = [];
    const outcomes = { approved: 0, expired: 0 };
    let trial = 0;
    const printAndCheck = async (kiosk: KioskApi, agent: ResidentAgent, app: Application, issuanceId: string) => {
      const pdf = await kiosk.document(issuanceId);
      if ((await kiosk.result(issuanceId, 'printed')) !== 'printed') violations.push(`receipt ${app.receiptNumber}: not printed`);
      violations.push(...(await printedProblems(server, agent, app, pdf)));
    };
    await Promise.all(
      kiosks.map(async (kiosk, k) => {
        const agent = crew[k % crew.length]!;
        while (trial++ < TIMEOUT_TRIALS) {
          const app = await agent.apply({ certificateType: 'juminhyo', options: {}, copies: 1 });
          // Answers from well before to well after the 1 s deadline, so both orders happen.
          const afterMs = 600 + rand() * 800;
          const arrival = agent.expectRequest(app.applicationId, { approve: true, afterMs });
          const issuance = await kiosk.start(app.receiptNumber);
          const decision = await awaitDecision(kiosk, issuance.issuanceId, 3000);
          const { request } = await arrival;
          if (decision === 'approved') {
            outcomes.approved++;
            await printAndCheck(kiosk, agent, app, issuance.issuanceId);
          } else if (decision === 'expired') {
            outcomes.expired++;
            await expectRefusal(violations, `document of expired ${issuance.issuanceId}`, kiosk.document(issuance.issuanceId), 409, 'invalid_state');
            // The late approval must be refused, never turn the expired attempt into a print.
            await eventually(() => agent.refusals.has(request.requestId), 5000);
            const refused = agent.refusals.get(request.requestId)!;
            if (!refused.every((c) => c === 'invalid_state')) violations.push(`late approval of ${app.receiptNumber} refused with ${refused.join(',')}`);
            await expectRefusal(violations, `document after the late approval of ${issuance.issuanceId}`, kiosk.document(issuance.issuanceId), 409, 'invalid_state');
            // The whole attempt ended: the receipt is printable again, for the same resident.
            void agent.expectRequest(app.applicationId);
            const again = await kiosk.start(app.receiptNumber);
            const second = await awaitDecision(kiosk, again.issuanceId);
            if (second !== 'approved') violations.push(`receipt ${app.receiptNumber} after expiry: ${second}`);
            else await printAndCheck(kiosk, agent, app, again.issuanceId);
          } else {
            violations.push(`receipt ${app.receiptNumber}: kiosk saw ${decision}`);
          }
          if (decision === 'approved' && agent.refusals.has(request.requestId)) violations.push(`approved ${app.receiptNumber} but the approval was refused: ${agent.refusals.get(request.requestId)!.join(',')}`);
        }
      }),
    );
    const strays = agents.flatMap((a) => a.strays.map((r) => `${a.residentId} got the request for receipt ${r.receiptNumber}`));
    assert.deepEqual([...strays, ...violations].slice(0, 30), [], `seed ${seed}; ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.approved > 0 && outcomes.expired > 0, `both orders must happen: ${JSON.stringify(outcomes)}`);
    console.log(`      timeout race: ${JSON.stringify(outcomes)}`);
  });
});
