// A load-generator process of the load benchmark (forked by load-bench.ts with tsx). It holds
// resident agents and kiosks made of the real clients and runs what the parent asks over IPC,
// reporting raw latencies plus its own CPU time and event-loop delay, so that the parent can tell
// whether the generators, not the server, were the limit.
import { applicationSchema, type CreateApplicationRequest } from '@cert/common';
import { callJson, type ServerEndpoint } from '@cert/common/node';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ApplicantApi, DeviceKey, type AuthenticationToken } from 'desktop-applicant';
import { KioskApi } from 'kiosk-shell';
import { completeFlow, type FlowTimings } from '../load/kiosk-flow.ts';
import { limiter } from '../load/limiter.ts';
import { ResidentAgent } from '../load/resident-agent.ts';
import type { PkiCredential } from '../pki/test-pki.ts';
import { softwareToken } from '../rig/software-token.ts';

/** What the parent asks a worker to do. */
export type WorkerCommand =
  | { cmd: 'init'; baseUrl: string; agentBaseUrl?: string; kiosks: string[]; cards: { residentId: string; card: PkiCredential }[]; keyDir: string }
  | { cmd: 'agents'; count: number; concurrency: number }
  | { cmd: 'flows'; concurrency: number; durationMs: number; kioskOffset: number }
  | { cmd: 'documents'; count: number; copies: number }
  | { cmd: 'logins'; concurrency: number; durationMs: number }
  | { cmd: 'submits'; baseUrl: string | null; concurrency: number; durationMs: number }
  | { cmd: 'sockets'; count: number; concurrency: number }
  | { cmd: 'probe'; count: number; concurrency: number; kioskOffset: number }
  | { cmd: 'stop' };

/** Every answer carries the worker's own cost while it ran the command. */
export interface WorkerCost {
  cpuMs: number;
  wallMs: number;
  loopDelayP99Ms: number;
}

/** What a timed loop produced: latencies of every finished operation and the count that finished in time. */
export interface TimedRun extends WorkerCost {
  completed: number;
  latencies: number[];
  errors: Record<string, number>;
}

/** Answer of `flows`. */
export interface FlowRun extends WorkerCost {
  completed: number;
  timings: FlowTimings[];
  errors: Record<string, number>;
}

/** Answer of `documents`. */
export interface DocumentRun extends WorkerCost {
  documentMs: number[];
  bytes: number;
  pages: number;
}

/** Answer of `sockets` and `agents`. */
export interface ConnectRun extends WorkerCost {
  loginMs: number[];
  failures: Record<string, number>;
}

// The histogram records whole timer intervals, so the resolution is subtracted to get the delay.
const LOOP_RESOLUTION_MS = 2;
const ORDER: CreateApplicationRequest = { certificateType: 'juminhyo', options: { scope: 'household' }, copies: 1 };

/** The kiosks' server node. */
let endpoint: ServerEndpoint = { baseUrl: '' };
/** The residents' node: another one than the kiosks' when the server runs on several (every flow then crosses nodes). */
let agentEndpoint: ServerEndpoint = endpoint;
let kiosks: KioskApi[] = [];
let cards: { residentId: string; token: AuthenticationToken }[] = [];
let keyDir = '';
let keys = 0;
/** Agents that run flows and probes. */
const agents: ResidentAgent[] = [];
/** Agents that only keep a socket open (the connected-sockets scale). */
const idle: ResidentAgent[] = [];

function describe(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return (err.code ?? err.message ?? String(e)).slice(0, 120);
}

function count(into: Record<string, number>, e: unknown): void {
  const k = describe(e);
  into[k] = (into[k] ?? 0) + 1;
}

/** Runs `body` and adds this process's CPU time, wall time and event-loop delay p99 to its result. */
async function measured<T extends object>(body: () => Promise<T>): Promise<T & WorkerCost> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  try {
    const result = await body();
    const used = process.cpuUsage(cpu);
    return { ...result, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - start, loopDelayP99Ms: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS) };
  } finally {
    loop.disable();
  }
}

/** Runs `concurrency` copies of `step` until `durationMs` passes; counts the ones that finished in time. */
async function timedLoops<T>(concurrency: number, durationMs: number, step: (loop: number) => Promise<T>, keep: (r: T) => void): Promise<{ completed: number; errors: Record<string, number> }> {
  const deadline = performance.now() + durationMs;
  let completed = 0;
  const errors: Record<string, number> = {};
  await Promise.all(
    Array.from({ length: concurrency }, async (_, loop) => {
      while (performance.now() < deadline) {
        try {
          const r = await step(loop);
          if (performance.now() <= deadline) {
            completed++;
            keep(r);
          }
        } catch (e) {
          count(errors, e);
        }
      }
    }),
  );
  return { completed, errors };
}

/** `promise`, or a rejection naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timeout`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Logs in `count` new agents (cards round-robin, each with its own device key) and connects their sockets. */
async function connectAgents(into: ResidentAgent[], total: number, concurrency: number): Promise<{ loginMs: number[]; failures: Record<string, number> }> {
  const loginMs: number[] = [];
  const failures: Record<string, number> = {};
  const slot = limiter(concurrency);
  const connectOne = async () => {
    const n = keys++;
    const card = cards[n % cards.length]!;
    try {
      const t = performance.now();
      const agent = await ResidentAgent.login(agentEndpoint, card.residentId, card.token, join(keyDir, `${n}.der`));
      loginMs.push(performance.now() - t);
      await agent.connect();
      into.push(agent);
    } catch (e) {
      count(failures, e);
    }
  };
  await Promise.all(Array.from({ length: total }, () => slot(connectOne)));
  return { loginMs, failures };
}

async function run(c: WorkerCommand): Promise<unknown> {
  switch (c.cmd) {
    case 'init':
      endpoint = { baseUrl: c.baseUrl };
      agentEndpoint = c.agentBaseUrl ? { baseUrl: c.agentBaseUrl } : endpoint;
      kiosks = c.kiosks.map((k) => new KioskApi(endpoint, k));
      cards = c.cards.map((x) => ({ residentId: x.residentId, token: softwareToken(x.card) }));
      keyDir = c.keyDir;
      mkdirSync(keyDir, { recursive: true });
      return {};
    case 'agents':
      return measured(() => connectAgents(agents, c.count, c.concurrency));
    case 'sockets':
      return measured(() => connectAgents(idle, c.count, c.concurrency));
    case 'flows':
      return measured(async () => {
        const timings: FlowTimings[] = [];
        const r = await timedLoops(
          c.concurrency,
          c.durationMs,
          (loop) => completeFlow(agents[loop % agents.length]!, kiosks[(c.kioskOffset + loop) % kiosks.length]!, ORDER),
          (f) => timings.push(f.timings),
        );
        return { ...r, timings };
      });
    case 'documents':
      return measured(async () => {
        const documentMs: number[] = [];
        let last: Buffer = Buffer.alloc(0);
        for (let i = 0; i < c.count; i++) {
          const f = await completeFlow(agents[0]!, kiosks[0]!, { ...ORDER, copies: c.copies });
          documentMs.push(f.timings.document);
          last = f.pdf;
        }
        const file = join(keyDir, 'sample.pdf');
        writeFileSync(file, last);
        const pages = Number(/^Pages:\s+(\d+)/m.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))?.[1]);
        return { documentMs, bytes: last.length, pages };
      });
    case 'logins':
      return measured(async () => {
        const latencies: number[] = [];
        const devices = Array.from({ length: c.concurrency }, () => DeviceKey.loadOrCreate(join(keyDir, `${keys++}.der`)));
        const r = await timedLoops(
          c.concurrency,
          c.durationMs,
          async (loop) => {
            const t = performance.now();
            await new ApplicantApi(agentEndpoint).login(cards[loop % cards.length]!.token, devices[loop]!);
            return performance.now() - t;
          },
          (ms) => latencies.push(ms),
        );
        return { ...r, latencies };
      });
    case 'submits':
      return measured(async () => {
        // The same client call ApplicantApi.apply makes, so both targets cost the generator the same.
        const target: ServerEndpoint = c.baseUrl ? { baseUrl: c.baseUrl } : agentEndpoint;
        const bearer = agents[0]!.api.currentSession!.sessionToken;
        const latencies: number[] = [];
        const r = await timedLoops(
          c.concurrency,
          c.durationMs,
          async () => {
            const t = performance.now();
            await callJson(target, { method: 'POST', path: '/api/v1/applications', body: ORDER, bearer }, applicationSchema);
            return performance.now() - t;
          },
          (ms) => latencies.push(ms),
        );
        return { ...r, latencies };
      });
    case 'probe':
      return measured(async () => {
        // Claim, wait for the push, abandon: the receipt goes back to `submitted` and is claimed again.
        const latencies: number[] = [];
        const errors: Record<string, number> = {};
        const probes = await Promise.all(agents.slice(0, c.concurrency).map(async (agent) => ({ agent, app: await agent.apply(ORDER) })));
        let started = 0;
        await Promise.all(
          probes.map(async ({ agent, app }, k) => {
            const kiosk = kiosks[(c.kioskOffset + k) % kiosks.length]!;
            while (started++ < c.count) {
              try {
                const arrival = agent.expectRequest(app.applicationId, 'ignore');
                const t = performance.now();
                const issuance = await kiosk.start(app.receiptNumber);
                latencies.push((await within(arrival, 10_000, 'push')).at - t);
                await kiosk.abandon(issuance.issuanceId);
              } catch (e) {
                count(errors, e);
              }
            }
          }),
        );
        return { latencies, errors, completed: latencies.length };
      });
    case 'stop':
      for (const a of [...agents, ...idle]) a.stop();
      setImmediate(() => process.exit(0));
      return {};
  }
}

process.on('message', (m: { id: number; command: WorkerCommand }) => {
  run(m.command).then(
    (result) => process.send!({ id: m.id, ok: true, result }),
    (e: unknown) => process.send!({ id: m.id, ok: false, error: (e as Error).stack ?? String(e) }),
  );
});
