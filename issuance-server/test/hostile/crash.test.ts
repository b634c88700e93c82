// Crash safety (DESIGN.md, Lifecycle; domain.md §3.1, 2 and 8): the server is SIGKILLed at random
// moments under load and restarted on the same data directory. No receipt ever given out may
// vanish, none may print twice, the audit chain must verify, and no attempt may stay open past
// its deadline once the sweeps have run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Application } from '@cert/common';
import { ContractError, NetworkError } from '@cert/common/node';
import { KioskApi } from 'kiosk-shell';
import { awaitDecision } from '@cert/scripts/load';
import { LoadServer, seedLoadDataDir, UNLIMITED_RATE_LIMITS } from '@cert/scripts/load';
import { ResidentAgent } from '@cert/scripts/load';
import { buildLoadRegister } from '@cert/scripts/load';
import { ensureTestPki } from '@cert/scripts/pki';
import { SERVER_BIN } from '@cert/scripts/rig';
import { softwareToken } from '@cert/scripts/rig';
import { eventually } from '../integration/harness.ts';
import { errorCode, isServerFault, OPEN_ATTEMPT_STATUSES, openReadOnly, prng, reportSeedOnFailure, storageViolations, testSeed } from './hostile-helpers.ts';

const KILLS = Number(process.env['HOSTILE_CRASH_KILLS'] ?? 20);
const KIOSKS = 6;
const CONFIRMATION_TIMEOUT_S = 2;
// Longer than the first render after a start (about 2 s, longer on a busy machine), or every
// restart's first print would expire while the server renders it.
const PRINT_TIMEOUT_S = 8;

describe('hostile: SIGKILL under load', function () {
  this.timeout(180_000);
  const seed = testSeed();
  reportSeedOnFailure(seed);
  let work: string;
  let server: LoadServer | null = null;
  const agents: ResidentAgent[] = [];

  after(async () => {
    for (const a of agents) a.stop();
    await server?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it(`${KILLS} kills at random moments: receipts survive, nothing prints twice, the audit verifies, no attempt outlives its deadline`, async () => {
    const pki = await ensureTestPki();
    work = mkdtempSync(join(tmpdir(), 'hostile-crash-'));
    const register = await buildLoadRegister(pki, join(work, 'cards'), 2);
    server = new LoadServer(join(work, 'data'), [
      ...UNLIMITED_RATE_LIMITS,
      '--confirmation-timeout-seconds', String(CONFIRMATION_TIMEOUT_S),
      '--print-timeout-seconds', String(PRINT_TIMEOUT_S),
    ]);
    const target = server;
    const seeded = await seedLoadDataDir(target.dataDir, pki, register, KIOSKS);
    await target.start();
    const kiosks = seeded.kiosks.map((k) => new KioskApi(target.endpoint, k.credential));
    // Short reconnect delays: the socket should be back soon after each restart.
    for (const [id, card] of Object.entries(register.cards)) {
      const agent = await ResidentAgent.login(target.endpoint, id, softwareToken(card), join(work, `${id}.der`), { baseDelayMs: 20, maxDelayMs: 200 });
      agents.push(agent);
      await agent.connect();
    }

    const rand = prng(seed);
    const violations: string[] = [];
    /** Issuances each receipt was reported printed for (through the wire). */
    const printedBy = new Map<string, Set<string>>();
    /** Receipts whose flow broke off; kiosks pick them up again later. */
    const interrupted: { agent: ResidentAgent; app: Application }[] = [];
    const tally = { flows: 0, printed: 0, networkErrors: 0, refusals: {} as Record<string, number> };
    let stopping = false;
    // Progress since the last start, and a way to wait for the next restart.
    let steps = 0;
    let onStep: (() => void) | null = null;
    let restarted: Promise<void> = Promise.resolve();

    /** One step of a flow; a network failure waits for the restart and throws on, anything else is recorded. */
    const step = async <T,>(call: () => Promise<T>): Promise<T> => {
      try {
        const r = await call();
        steps++;
        onStep?.();
        return r;
      } catch (e) {
        if (isServerFault(e)) violations.push(`server fault: ${errorCode(e)}`);
        else if (e instanceof NetworkError) {
          tally.networkErrors++;
          await restarted;
        } else tally.refusals[errorCode(e)] = (tally.refusals[errorCode(e)] ?? 0) + 1;
        throw e;
      }
    };

    /** A kiosk's result report, retried across restarts as a real kiosk would (it is idempotent). */
    const reportPrinted = async (kiosk: KioskApi, issuanceId: string): Promise<string> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await step(() => kiosk.result(issuanceId, 'printed'));
        } catch (e) {
          if (!(e instanceof NetworkError) || attempt >= 3) throw e;
        }
      }
    };

    const flow = async (kiosk: KioskApi, agent: ResidentAgent, app: Application) => {
      void agent.expectRequest(app.applicationId);
      const issuance = await step(() => kiosk.start(app.receiptNumber));
      const decision = await step(() => awaitDecision(kiosk, issuance.issuanceId, 1000));
      if (decision !== 'approved') throw new Error(`ended ${decision}`);
      await step(() => kiosk.document(issuance.issuanceId));
      if ((await reportPrinted(kiosk, issuance.issuanceId)) === 'printed') {
        const by = printedBy.get(app.receiptNumber) ?? new Set();
        by.add(issuance.issuanceId);
        printedBy.set(app.receiptNumber, by);
        tally.printed++;
      }
    };

    const load = Promise.all(
      kiosks.map(async (kiosk, k) => {
        const r = prng(seed + k + 1);
        while (!stopping) {
          // Now and then pick up a receipt whose flow broke off: it must print once, or stay unprinted.
          const retry = r() < 0.3 ? interrupted.shift() : undefined;
          const agent = retry?.agent ?? agents[Math.floor(r() * agents.length)]!;
          let app = retry?.app;
          try {
            app ??= await step(() => agent.apply({ certificateType: 'juminhyo', options: {}, copies: 1 }));
            tally.flows++;
            await flow(kiosk, agent, app);
          } catch (e) {
            // A receipt the kiosk is told is gone (printed meanwhile) is not worth another try.
            if (app && !(e instanceof ContractError && e.status === 404)) interrupted.push({ agent, app });
          }
        }
      }),
    );

    for (let kill = 0; kill < KILLS; kill++) {
      // Kill after a random number of completed steps, so the kills land at every point of a flow.
      const after = steps + 3 + Math.floor(rand() * 40);
      await new Promise<void>((resolve) => {
        onStep = () => steps >= after && resolve();
        onStep();
      });
      onStep = null;
      let back!: () => void;
      restarted = new Promise((resolve) => (back = resolve));
      await target.kill();
      await target.start();
      back();
    }
    stopping = true;
    await load;

    // Once every deadline has passed and the sweeps have run, nothing may be left open.
    const open = OPEN_ATTEMPT_STATUSES.map((s) => `'${s}'`).join(',');
    const db = openReadOnly(target.databasePath);
    const stillOpen = () => db.prepare(`SELECT id, status, deadline_at FROM issuance_attempts WHERE status IN (${open})`).all();
    try {
      await eventually(() => stillOpen().length === 0, (CONFIRMATION_TIMEOUT_S + PRINT_TIMEOUT_S) * 1000 + 10_000).catch(() => {
        throw new Error(`attempts still open after their deadlines (now ${Date.now()}): ${JSON.stringify(stillOpen())}`);
      });
    } finally {
      db.close();
    }

    // Every receipt the applicants were given is still theirs.
    for (const agent of agents) {
      const listed = new Map((await agent.api.list()).map((a) => [a.receiptNumber, a]));
      for (const app of agent.applications.values()) {
        if (!listed.has(app.receiptNumber)) violations.push(`receipt ${app.receiptNumber} of ${agent.residentId} is gone`);
      }
    }
    for (const [receipt, issuances] of printedBy) {
      if (issuances.size > 1) violations.push(`receipt ${receipt} reported printed by ${issuances.size} issuances`);
    }

    await target.stop();
    const audit = spawnSync(SERVER_BIN, ['admin', '--data-dir', target.dataDir, 'audit', 'verify'], { encoding: 'utf8' });
    assert.equal(audit.status, 0, `audit verify: ${audit.stdout}${audit.stderr}`);
    const check = openReadOnly(target.databasePath);
    try {
      violations.push(...storageViolations(check));
      for (const [receipt] of printedBy) {
        const row = check.prepare('SELECT status FROM applications WHERE receipt_number = ?').get(receipt) as { status: string } | undefined;
        if (row?.status !== 'printed') violations.push(`receipt ${receipt} was reported printed but is ${row?.status ?? 'missing'}`);
      }
    } finally {
      check.close();
    }
    assert.deepEqual(violations.slice(0, 30), [], `seed ${seed}; ${JSON.stringify(tally)}`);
    assert.ok(target.starts >= KILLS + 1, `only ${target.starts} starts`);
    assert.ok(tally.printed > 0, `nothing printed: ${JSON.stringify(tally)}`);
    console.log(`      crash: ${target.starts - 1} kills, ${JSON.stringify(tally)}`);
  });
});
