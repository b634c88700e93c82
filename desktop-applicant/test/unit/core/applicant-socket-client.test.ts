// The applicant socket client against a small WebSocket server that plays the issuance server's
// part of the protocol (PROTOCOL.md, Applicant socket) and misbehaves on purpose.
import { APPLICANT_SOCKET_PATH, SOCKET_CLOSE_UNAUTHORIZED, confirmationSignedText, deviceSignedText } from '@cert/common';
import { untilEvent } from '@cert/scripts/rig';
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApplicantSocketClient, reconnectDelay, type SocketState } from '../../../src/core/applicant-socket-client.ts';
import { DeviceKey } from '../../../src/core/device-key.ts';
import { ManualClock } from '../helpers/manual-clock.ts';

/** What the fake server does with the n-th connection (from 0). */
type Behaviour = 'drop' | 'authenticate' | 'reject';

const verifies = (spkiB64: string, text: Uint8Array, sigB64: string) =>
  cryptoVerify('sha256', text, { key: createPublicKey({ key: Buffer.from(spkiB64, 'base64'), format: 'der', type: 'spki' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(sigB64, 'base64'));

class FakeServer {
  readonly wss: WebSocketServer;
  /** When each connection arrived (performance.now()). */
  readonly connectedAt: number[] = [];
  readonly received: Record<string, unknown>[] = [];
  readonly sockets: WebSocket[] = [];
  /** Emits `change` after each connection and each message. */
  private readonly changes = new EventEmitter();
  behaviour: (n: number) => Behaviour = () => 'authenticate';

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on('connection', (ws, req) => {
      const n = this.connectedAt.length;
      this.connectedAt.push(performance.now());
      this.sockets.push(ws);
      this.changes.emit('change');
      if (req.url !== APPLICANT_SOCKET_PATH) return ws.close(4404, 'wrong path');
      const b = this.behaviour(n);
      if (b === 'drop') return ws.terminate();
      const nonce = `nonce-${n}`;
      ws.send(JSON.stringify({ type: 'hello', nonce }));
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as Record<string, unknown> & { type: string; devicePublicKey: string; signature: string };
        this.received.push(msg);
        this.changes.emit('change');
        if (msg.type !== 'authenticate') return;
        if (b === 'reject' || !verifies(msg.devicePublicKey, deviceSignedText(nonce), msg.signature)) return ws.close(SOCKET_CLOSE_UNAUTHORIZED, 'device_unknown');
        ws.send(JSON.stringify({ type: 'authenticated' }));
      });
    });
  }

  static async start(): Promise<FakeServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    return new FakeServer(wss);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  waitForConnections(n: number): Promise<void> {
    return untilEvent(this.changes, 'change', () => this.connectedAt.length >= n, `${n} connections`, 5000);
  }

  /** The first message of `type` the clients sent, once it has arrived. */
  async message(type: string): Promise<Record<string, unknown>> {
    const find = () => this.received.find((m) => m.type === type);
    await untilEvent(this.changes, 'change', () => find() !== undefined, `a ${type} message`, 5000);
    return find()!;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** Resolves on the client's next `state` event that is `state` (its state before start() is offline too). */
const reaches = (client: ApplicantSocketClient, state: SocketState) =>
  new Promise<void>((resolve) => {
    const on = (s: SocketState) => {
      if (s !== state) return;
      client.off('state', on);
      resolve();
    };
    client.on('state', on);
  });

describe('ApplicantSocketClient', () => {
  describe('reconnectDelay', () => {
    it('doubles from the base and stops at the cap', () => {
      assert.deepEqual(
        [0, 1, 2, 3, 4, 5, 6, 7].map((n) => reconnectDelay(n)),
        [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
      );
      assert.equal(reconnectDelay(1000), 30_000, 'no overflow after a long outage');
      assert.deepEqual(
        [0, 1, 2, 3, 4].map((n) => reconnectDelay(n, 100, 1000)),
        [100, 200, 400, 800, 1000],
      );
    });
  });

  describe('against a live socket', () => {
    let server: FakeServer;
    let dir: string;
    let device: DeviceKey;
    const clients: ApplicantSocketClient[] = [];

    const newClient = (options: ConstructorParameters<typeof ApplicantSocketClient>[2] = { baseDelayMs: 50, maxDelayMs: 400 }) => {
      const c = new ApplicantSocketClient({ baseUrl: server.url }, device, options);
      clients.push(c);
      return c;
    };

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'socket-client-'));
      device = DeviceKey.loadOrCreate(join(dir, 'device-key.bin'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    beforeEach(async () => {
      server = await FakeServer.start();
    });
    afterEach(async () => {
      for (const c of clients.splice(0)) c.stop();
      await server.close();
    });

    it('reconnects with a doubling delay while the server drops it, then authenticates with a device-key signature', async () => {
      server.behaviour = (n) => (n < 4 ? 'drop' : 'authenticate');
      const client = newClient();
      const states: SocketState[] = [];
      client.on('state', (s) => states.push(s));
      client.start();
      await client.whenAuthenticated(5000);
      const t = server.connectedAt;
      assert.equal(t.length, 5);
      const gaps = t.slice(1).map((x, i) => x - t[i]!);
      // 50, 100, 200, 400 ms (cap 400), each plus connection time.
      [50, 100, 200, 400].forEach((expected, i) => {
        assert.ok(gaps[i]! >= expected - 5, `gap ${i} is ${gaps[i]!.toFixed(0)} ms, expected ≥ ${expected}`);
        assert.ok(gaps[i]! < expected + 250, `gap ${i} is ${gaps[i]!.toFixed(0)} ms, expected about ${expected}`);
      });
      assert.equal(states.at(-1), 'authenticated');
      assert.ok(states.includes('offline'));
      const auth = server.received.find((m) => m.type === 'authenticate') as { devicePublicKey: string; signature: string };
      assert.equal(auth.devicePublicKey, device.publicKeyBase64);
      assert.ok(verifies(auth.devicePublicKey, deviceSignedText('nonce-4'), auth.signature));
    });

    it('after an authenticated connection drops, backoff starts again from the base delay', async () => {
      server.behaviour = (n) => (n === 0 || n === 1 ? 'drop' : 'authenticate');
      const client = newClient({ baseDelayMs: 100, maxDelayMs: 2000 });
      client.start();
      await client.whenAuthenticated(5000);
      assert.equal(server.connectedAt.length, 3);
      // The server goes away from under an authenticated client.
      const closedAt = performance.now();
      server.sockets.at(-1)!.terminate();
      await server.waitForConnections(4);
      const gap = server.connectedAt[3]! - closedAt;
      assert.ok(gap >= 95 && gap < 350, `reconnected after ${gap.toFixed(0)} ms, expected about 100 (attempt counter reset)`);
      await client.whenAuthenticated(5000);
    });

    it('device_unknown (4401): rejected, and no retry (only a new login can register the key)', async () => {
      server.behaviour = () => 'reject';
      const clock = new ManualClock();
      const client = newClient({ baseDelayMs: 50, maxDelayMs: 400, schedule: clock.schedule });
      client.start();
      const e = await client.whenAuthenticated(2000).catch((x: unknown) => x);
      assert.match(String(e), /rejected: device_unknown/);
      assert.equal(client.state, 'rejected');
      assert.deepEqual(clock.pending, [], 'no reconnection scheduled');
      assert.equal(server.connectedAt.length, 1);
    });

    it('stop() while a reconnect is scheduled: no further connection, state stopped', async () => {
      server.behaviour = () => 'drop';
      const clock = new ManualClock();
      const client = newClient({ baseDelayMs: 200, maxDelayMs: 200, schedule: clock.schedule });
      const dropped = reaches(client, 'offline');
      client.start();
      await dropped;
      assert.deepEqual(clock.pending, [200], 'a reconnect is scheduled');
      client.stop();
      assert.equal(client.state, 'stopped');
      assert.deepEqual(clock.pending, [], 'and called off');
      clock.advance(1000);
      assert.equal(server.connectedAt.length, 1);
    });

    it('answers a print confirmation request with a signature over the confirm text; refuses to answer while offline', async () => {
      // No reconnect while the test looks at the offline client.
      const client = newClient({ baseDelayMs: 50, maxDelayMs: 400, schedule: new ManualClock().schedule });
      client.start();
      await client.whenAuthenticated(5000);
      const request = {
        type: 'print-confirmation-request', requestId: 'req-1', applicationId: 'app-1', receiptNumber: '123456789012',
        certificateType: 'juminhyo', copies: 1, fee: 200, kiosk: { id: 'k1', name: 'Store', location: 'Town' }, expiresAt: new Date(Date.now() + 60_000).toISOString(),
      };
      const got = new Promise((resolve) => client.once('confirmation-request', resolve));
      server.sockets.at(-1)!.send(JSON.stringify(request));
      await got;
      assert.ok(client.pending.has('req-1'));
      client.respond('req-1', false);
      const answer = (await server.message('print-confirmation-response')) as { requestId: string; approved: boolean; signature: string };
      assert.equal(answer.approved, false);
      assert.ok(verifies(device.publicKeyBase64, confirmationSignedText('req-1', false), answer.signature));
      assert.equal(verifies(device.publicKeyBase64, confirmationSignedText('req-1', true), answer.signature), false, 'a decline cannot pass for an approval');

      const dropped = reaches(client, 'offline');
      server.sockets.at(-1)!.terminate();
      await dropped;
      assert.throws(() => client.respond('req-1', true), /not connected/);
    });
  });
});
