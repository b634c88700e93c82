// Failover between node processes (issue 10): three `issuance-server serve --database postgres://…`
// nodes on one throwaway cluster, a kiosk and a resident's device made of the real clients, each
// configured with all three URLs (the kiosk preferring A, the device B). In every lifecycle state
// the node in use is SIGKILLed; the flow must go on through the next node at the cost of a retry,
// and afterwards no application is lost, none printed twice, and `admin --database … audit verify`
// passes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Application } from '@cert/common';
import { serverNodes, type ServerEndpoint } from '@cert/common/node';
import { KioskApi } from 'kiosk-shell';
import { seedDemo } from '@cert/scripts/demo';
import { awaitDecision, LoadServer, ResidentAgent, UNLIMITED_RATE_LIMITS } from '@cert/scripts/load';
import { ensureTestPki } from '@cert/scripts/pki';
import { createDatabase, freePort, SERVER_BIN, softwareToken } from '@cert/scripts/rig';
import { onTestCluster } from '../test-storage.ts';

/** Where in the flow a node dies, and whose node: the one the kiosk uses or the one the device's socket is on. */
const KILLS = [
  { state: 'submitted', whose: 'kiosk' },
  { state: 'confirmation_pending', whose: 'kiosk' },
  { state: 'confirmation_pending', whose: 'device' },
  { state: 'approved', whose: 'kiosk' },
  { state: 'delivered', whose: 'kiosk' },
  { state: 'printed', whose: 'kiosk' },
] as const;

describe('node failover: SIGKILL of a node in every lifecycle state', function () {
  this.timeout(240_000);
  const cluster = onTestCluster();
  let work = '';
  let databaseUrl = '';
  const nodes: LoadServer[] = [];
  let agent: ResidentAgent | null = null;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'node-failover-'));
    databaseUrl = await createDatabase(cluster().adminUrl, 'failover');
  });
  after(async () => {
    agent?.stop();
    for (const n of nodes) await n.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('each kill costs a retry, not an issuance: nothing lost, nothing printed twice, the audit verifies', async () => {
    const pki = await ensureTestPki();
    const seeded = await seedDemo({ dataDir: '', databaseUrl }, pki, { kiosks: 1 });
    const args = [...UNLIMITED_RATE_LIMITS, '--render-workers', '1', '--confirmation-timeout-seconds', '60', '--print-timeout-seconds', '60'];
    for (let i = 0; i < 3; i++) nodes.push(new LoadServer('', args, 10_000, { databaseUrl, port: await freePort() }));
    // One after another: three servers warming their render workers at once on two shared cores start slowly.
    for (const n of nodes) await n.start();
    const urls = nodes.map((n) => n.endpoint.baseUrl);
    const byUrl = new Map(urls.map((u, i) => [u, nodes[i]!]));
    const kioskEndpoint: ServerEndpoint = { baseUrl: urls[0]!, alternateUrls: [urls[1]!, urls[2]!], timeoutMs: 10_000 };
    const deviceEndpoint: ServerEndpoint = { baseUrl: urls[1]!, alternateUrls: [urls[2]!, urls[0]!], timeoutMs: 10_000 };
    const kiosk = new KioskApi(kioskEndpoint, seeded.kiosks[0]!.credential);
    agent = await ResidentAgent.login(deviceEndpoint, 'R0001', softwareToken(pki.residents['R0001']!.auth), join(work, 'device.der'), { baseDelayMs: 20, maxDelayMs: 200 });
    await agent.connect();
    const resident = agent;

    /** SIGKILLs the node the kiosk (or the device) uses now, and returns it for a restart. */
    const kill = async (whose: 'kiosk' | 'device'): Promise<LoadServer> => {
      const victim = byUrl.get(serverNodes(whose === 'kiosk' ? kioskEndpoint : deviceEndpoint).pick())!;
      await victim.kill();
      return victim;
    };
    const printed: Application[] = [];
    for (const { state, whose } of KILLS) {
      const label = `${whose}'s node killed in ${state}`;
      let victim: LoadServer | null = null;
      const killAt = async (here: string) => {
        if (here === state) victim = await kill(whose);
      };
      const app = await resident.apply({ certificateType: 'juminhyo', options: {}, copies: 1 });
      await killAt('submitted');
      const arrival = resident.expectRequest(app.applicationId, 'ignore');
      const issuance = await kiosk.start(app.receiptNumber);
      // The kiosk's long-poll is in flight on its node when that node dies.
      const decision = awaitDecision(kiosk, issuance.issuanceId, 2000);
      await killAt('confirmation_pending');
      // After a kill of its node the device reconnects to the next one and gets the request from the database.
      const { request } = await arrival;
      await resident.socket.whenAuthenticated(20_000);
      resident.socket.respond(request.requestId, true);
      assert.equal(await decision, 'approved', label);
      await killAt('approved');
      const pdf = await kiosk.document(issuance.issuanceId);
      assert.equal(pdf.subarray(0, 5).toString(), '%PDF-', label);
      await killAt('delivered');
      assert.equal(await kiosk.result(issuance.issuanceId, 'printed'), 'printed', label);
      await killAt('printed');
      assert.equal((await resident.api.list()).find((a) => a.applicationId === app.applicationId)?.status, 'printed', label);
      assert.ok(victim, `${label}: a node was killed`);
      printed.push(app);
      await (victim as LoadServer).start();
    }

    // No application lost, none printed twice.
    const listed = await resident.api.list();
    for (const app of resident.applications.values()) assert.ok(listed.some((l) => l.receiptNumber === app.receiptNumber), `receipt ${app.receiptNumber} lost`);
    assert.equal(printed.length, KILLS.length);
    assert.deepEqual(resident.strays, [], 'no request reached the wrong device');
    for (const n of nodes) await n.stop();
    const audit = spawnSync(SERVER_BIN, ['admin', '--database', databaseUrl, 'audit', 'verify'], { encoding: 'utf8' });
    assert.equal(audit.status, 0, `audit verify: ${audit.stdout}${audit.stderr}`);
    const twice = await printedTwice(databaseUrl);
    assert.deepEqual(twice, [], 'an application printed by more than one attempt');
  });
});

/** Applications with more than one printed attempt (read straight from the database). */
async function printedTwice(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{ application_id: string }>("SELECT application_id FROM issuance_attempts WHERE status = 'printed' GROUP BY application_id HAVING COUNT(*) > 1");
    return r.rows.map((x) => x.application_id);
  } finally {
    await client.end();
  }
}
