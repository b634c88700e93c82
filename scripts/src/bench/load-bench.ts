// The load benchmark (`npm run bench`, or `tsx scripts/src/bench/load-bench.ts` alone): one server
// process started through its CLI on a seeded temp data dir, load from several forked generator
// processes made of the real clients, every figure printed beside its target with PASS/FAIL.
// Sizes come from BENCH_LOAD_* variables; BENCH_QUICK=1 shrinks everything for development.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { Agent, get } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FLOW_STEPS, type FlowTimings } from '../load/kiosk-flow.ts';
import { LoadServer, processCpuSeconds, seedLoadDataDir, UNLIMITED_RATE_LIMITS } from '../load/load-server.ts';
import { formatSummary, ms, summarize, type Summary } from '../load/stats.ts';
import { buildLoadRegister } from '../load/synthetic-register.ts';
import { ensureTestPki } from '../pki/test-pki.ts';
import type { ConnectRun, DocumentRun, FlowRun, TimedRun, WorkerCommand, WorkerCost } from './load-worker.ts';

const QUICK = process.env['BENCH_QUICK'] === '1';
const size = (name: string, full: number, quick: number) => Number(process.env[`BENCH_LOAD_${name}`] ?? (QUICK ? quick : full));
const CONFIG = {
  workers: size('WORKERS', 3, 2),
  kiosks: size('KIOSKS', 50, 50),
  households: size('HOUSEHOLDS', 30, 8),
  agents: size('AGENTS', 150, 30),
  levelMs: size('LEVEL_SECONDS', 8, 2) * 1000,
  maxConcurrency: size('MAX_CONCURRENCY', 128, 16),
  documents: size('DOCUMENTS', 40, 8),
  probes: size('PROBES', 300, 40),
  healthIdleMs: size('HEALTH_IDLE_SECONDS', 3, 1) * 1000,
  sockets: (process.env['BENCH_LOAD_SOCKETS'] ?? (QUICK ? '200,500' : '2000,5000,10000,20000')).split(',').map(Number),
};
const CORES = cpus().length;
const NOFILE = 65_536;
/** A level must beat the best so far by this factor, or it counts as flat (two flat levels end a ramp). */
const RISE = 1.05;
/** Descriptors the server needs besides the measured sockets: the agents' and kiosks' connections, workers, files. */
const FD_RESERVE = 1000;

/** One row of the final table. */
interface Verdict {
  what: string;
  target: string;
  measured: string;
  pass: boolean;
}

/** The forked load generators and their RPC. */
export class WorkerPool {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly children: ChildProcess[];

  constructor(n: number) {
    const path = fileURLToPath(new URL('./load-worker.ts', import.meta.url));
    this.children = Array.from({ length: n }, () => {
      const child = fork(path, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.ok) p?.resolve(m.result);
        else p?.reject(new Error(`load worker: ${m.error}`));
      });
      child.on('exit', (code, signal) => {
        for (const p of this.pending.values()) p.reject(new Error(`a load worker exited (${code ?? signal}) mid-command`));
        this.pending.clear();
      });
      return child;
    });
  }

  /** Sends one command to worker `i`. */
  call<T>(i: number, command: WorkerCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.children[i]!.send({ id, command });
    });
  }

  /** Sends a command built per worker to every worker whose share is not empty. */
  all<T>(build: (i: number) => WorkerCommand | null): Promise<T[]> {
    return Promise.all(this.children.map((_, i) => build(i)).flatMap((c, i) => (c ? [this.call<T>(i, c)] : [])));
  }

  /** Asks every worker to stop and waits for them to exit. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once('exit', () => resolve());
            this.call(this.children.indexOf(c), { cmd: 'stop' }).catch(() => {});
            setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}

/** Worker i's share of `total`, and where its share starts (so kiosks are not shared below 50). */
export function share(total: number, workers: number, i: number): { n: number; offset: number } {
  const base = Math.floor(total / workers);
  const extra = total % workers;
  return { n: base + (i < extra ? 1 : 0), offset: i * base + Math.min(i, extra) };
}

/** Samples `GET /api/v1/health` every 50 ms on its own keep-alive connection pool until stopped. */
class HealthSampler {
  private readonly agent = new Agent({ keepAlive: true });
  private readonly samples: number[] = [];
  private inFlight = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly url: string) {
    this.timer = setInterval(() => this.probe(), 50);
  }

  private probe(): void {
    const t = performance.now();
    this.inFlight++;
    get(`${this.url}/api/v1/health`, { agent: this.agent }, (res) => {
      res.resume();
      res.on('end', () => {
        this.samples.push(performance.now() - t);
        this.inFlight--;
      });
    }).on('error', () => this.inFlight--);
  }

  /** Stops sampling, lets the requests in flight finish (up to 5 s) and returns the latencies. */
  async stop(): Promise<Summary> {
    clearInterval(this.timer);
    const end = Date.now() + 5000;
    while (this.inFlight > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    this.agent.destroy();
    return summarize(this.samples);
  }
}

/** Busy and total CPU time of the whole machine so far, in USER_HZ ticks (Linux /proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  // idle and iowait are the 4th and 5th fields.
  return { busy: total - cpu[3]! - (cpu[4] ?? 0), total };
}

/** Measures a phase: the CPU the target process, the generators and everything else on the machine used. */
class PhaseMeter {
  private readonly cpu0: number;
  private readonly t0 = performance.now();
  private readonly machine0 = machineTicks();

  constructor(private readonly targetCpuSeconds: () => number) {
    this.cpu0 = targetCpuSeconds();
  }

  /** The cost once the generators have reported their runs. */
  finish(runs: WorkerCost[]): PhaseCost {
    const wallMs = performance.now() - this.t0;
    const machine = machineTicks();
    const serverCores = ((this.targetCpuSeconds() - this.cpu0) * 1000) / wallMs;
    const generatorCores = runs.reduce((a, r) => a + r.cpuMs, 0) / wallMs;
    const busyCores = ((machine.busy - this.machine0.busy) / (machine.total - this.machine0.total)) * CORES;
    return { serverCores, generatorCores, otherCores: Math.max(0, busyCores - serverCores - generatorCores), loopDelayP99Ms: Math.max(...runs.map((r) => r.loopDelayP99Ms)) };
  }
}

/** Cost of a phase: CPU cores the server, the generators and other processes used, and the generators' worst loop delay. */
interface PhaseCost {
  serverCores: number;
  generatorCores: number;
  /** This benchmark's parent process and whatever else runs on the (shared) machine. */
  otherCores: number;
  loopDelayP99Ms: number;
}

function describeCost(c: PhaseCost): string {
  let verdict = 'neither saturated';
  if (c.serverCores >= 0.9) verdict = 'server-bound';
  else if (c.otherCores >= 0.3 && c.serverCores + c.generatorCores + c.otherCores >= CORES - 0.15) verdict = 'MACHINE SHARED: other processes took CPU the server needed';
  else if (c.serverCores + c.generatorCores >= CORES - 0.15) verdict = 'GENERATORS ARE THE LIMIT (they took CPU the server needed)';
  else if (c.loopDelayP99Ms > 50) verdict = 'generators lag: client-side delay inflates latencies';
  return `server ${c.serverCores.toFixed(2)}, generators ${c.generatorCores.toFixed(2)}, other ${c.otherCores.toFixed(2)} cores (generator loop delay p99 ${ms(c.loopDelayP99Ms)} ms): ${verdict}`;
}

/** ` errors: code×n, …` of every run, or nothing. */
export function mergeErrors(runs: { errors: Record<string, number> }[]): string {
  const all: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.errors)) all[k] = (all[k] ?? 0) + v;
  const text = Object.entries(all).map(([k, v]) => `${k}×${v}`).join(', ');
  return text ? ` errors: ${text}` : '';
}

/** One level of a ramp: its concurrency, throughput and whatever the phase measured. */
interface Level<T> {
  concurrency: number;
  perSecond: number;
  detail: T;
}

/**
 * Doubles the concurrency from 1 until the throughput stops rising (two levels in a row without
 * beating the best by RISE, so one noisy level does not end it) or the cap; returns every level.
 */
async function ramp<T>(label: string, run: (concurrency: number) => Promise<{ perSecond: number; detail: T; line: string }>): Promise<Level<T>[]> {
  const levels: Level<T>[] = [];
  let best = 0;
  let flat = 0;
  for (let c = 1; c <= CONFIG.maxConcurrency && flat < 2; c *= 2) {
    const r = await run(c);
    console.log(`  ${label} c=${String(c).padStart(3)}: ${r.perSecond.toFixed(1).padStart(7)}/s  ${r.line}`);
    levels.push({ concurrency: c, perSecond: r.perSecond, detail: r.detail });
    flat = r.perSecond < best * RISE ? flat + 1 : 0;
    best = Math.max(best, r.perSecond);
  }
  return levels;
}

function bestLevel<T>(levels: Level<T>[]): Level<T> {
  return levels.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
}

/** The hard limit on open files of this process (children inherit it). */
function descriptorLimit(): number {
  return Number(/^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 1024);
}

/**
 * Raises this process's descriptor limit, which the server and the generators inherit: the server
 * needs one per connected socket. Returns how many sockets fit under the limit that holds.
 */
function raiseDescriptorLimit(): number {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${NOFILE}:${NOFILE}`], { stdio: 'ignore' });
  } catch {
    // Raising the hard limit needs CAP_SYS_RESOURCE, which containers often drop.
  }
  const limit = descriptorLimit();
  // The server also holds its database, listener, log pipes and the probes' HTTP connections.
  const cap = limit - FD_RESERVE;
  if (limit < NOFILE) console.log(`  (descriptor limit ${limit} could not be raised: at most ${cap} sockets can be measured)`);
  return cap;
}

/** Runs the whole load benchmark and prints its report. */
export async function runLoadBench(): Promise<void> {
  console.log(`\n== load benchmark (${QUICK ? 'quick' : 'full'}; ${CORES} cores; ${JSON.stringify(CONFIG)}) ==`);
  const socketCap = raiseDescriptorLimit();
  const pki = await ensureTestPki();
  const work = mkdtempSync(join(tmpdir(), 'cert-load-bench-'));
  const register = await buildLoadRegister(pki, join(work, 'cards'), CONFIG.households);
  const seeded = await seedLoadDataDir(join(work, 'data'), pki, register, CONFIG.kiosks);
  const server = new LoadServer(join(work, 'data'), UNLIMITED_RATE_LIMITS);
  const pool = new WorkerPool(CONFIG.workers);
  const bare = fork(fileURLToPath(new URL('./bare-express.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const verdicts: Verdict[] = [];
  const verdict = (what: string, target: string, measured: string, pass: boolean) => verdicts.push({ what, target, measured, pass });
  try {
    const bareUrl = await new Promise<string>((resolve, reject) => {
      bare.once('message', (m: { url: string }) => resolve(m.url));
      bare.once('exit', (code) => reject(new Error(`bare Express app exited (${code})`)));
    });
    await server.start();
    const cards = Object.entries(register.cards).map(([residentId, card]) => ({ residentId, card }));
    await pool.all((i) => ({ cmd: 'init', baseUrl: server.endpoint.baseUrl, kiosks: seeded.kiosks.map((k) => k.credential), cards, keyDir: join(work, `keys-${i}`) }));
    const baselineRss = server.rssBytes();
    console.log(`server ${server.endpoint.baseUrl} (pid ${server.process.child.pid}, RSS ${(baselineRss / 2 ** 20).toFixed(0)} MB); ${register.people.length} residents, ${cards.length} cards, ${seeded.kiosks.length} kiosks`);

    // Documents first: the very first one after start is the cold figure.
    console.log('\ndocuments through the wire (sequential, one kiosk):');
    await pool.call<ConnectRun>(0, { cmd: 'agents', count: 1, concurrency: 1 });
    const cold = await pool.call<DocumentRun>(0, { cmd: 'documents', count: 1, copies: 1 });
    const coldMs = cold.documentMs[0]!;
    console.log(`  first document after start (cold): ${ms(coldMs)} ms, ${cold.bytes} bytes`);
    verdict('first document after start', '≤ 100 ms', `${ms(coldMs)} ms`, coldMs <= 100);
    for (const copies of [1, 5]) {
      const warm = await pool.call<DocumentRun>(0, { cmd: 'documents', count: CONFIG.documents, copies });
      const s = summarize(warm.documentMs);
      const perPage = warm.bytes / warm.pages;
      console.log(`  warm, ${copies} cop${copies === 1 ? 'y' : 'ies'}: ${formatSummary(s)}; ${warm.bytes} bytes, ${warm.pages} page(s), ${(perPage / 1000).toFixed(1)} kB a page`);
      verdict(`warm document p50 (${copies} cop${copies === 1 ? 'y' : 'ies'})`, '≤ 10 ms', `${ms(s.p50)} ms`, s.p50 <= 10);
      verdict(`document size (${copies} cop${copies === 1 ? 'y' : 'ies'})`, '≤ 150 kB a page', `${(perPage / 1000).toFixed(1)} kB a page`, perPage <= 150_000);
    }

    const idle = new HealthSampler(server.endpoint.baseUrl);
    await new Promise((r) => setTimeout(r, CONFIG.healthIdleMs));
    const idleHealth = await idle.stop();
    console.log(`\nhealth, idle: ${formatSummary(idleHealth, true)}`);

    console.log(`\nlogging in ${CONFIG.agents} resident agents (sockets connected, approving their own requests)…`);
    const agentRuns = await pool.all<ConnectRun>((i) => ({ cmd: 'agents', count: share(CONFIG.agents, CONFIG.workers, i).n, concurrency: 8 }));
    const agentFailures = mergeErrors(agentRuns.map((r) => ({ errors: r.failures })));
    if (agentFailures) console.log(`  agent login failures:${agentFailures}`);

    console.log(`\ncomplete flows (apply → claim → approval over the socket → long-poll → document → printed), ${CONFIG.levelMs / 1000} s a level:`);
    const flowLevels = await ramp('flows', async (c) => {
      const health = new HealthSampler(server.endpoint.baseUrl);
      const meter = new PhaseMeter(() => server.cpuSeconds());
      const runs = await pool.all<FlowRun>((i) => {
        const s = share(c, CONFIG.workers, i);
        return s.n ? { cmd: 'flows', concurrency: s.n, durationMs: CONFIG.levelMs, kioskOffset: s.offset } : null;
      });
      const cost = meter.finish(runs);
      const healthSummary = await health.stop();
      const timings = runs.flatMap((r) => r.timings);
      const steps = Object.fromEntries([...FLOW_STEPS, 'push', 'total'].map((k) => [k, summarize(timings.map((t) => t[k as keyof FlowTimings]))])) as Record<keyof FlowTimings, Summary>;
      const perSecond = runs.reduce((a, r) => a + r.completed, 0) / (CONFIG.levelMs / 1000);
      const worstRequestP99 = Math.max(...FLOW_STEPS.map((k) => steps[k].p99));
      const line = `flow ${formatSummary(steps.total)}; worst step p99 ${ms(worstRequestP99)} ms; health p99 ${ms(healthSummary.p99)} ms; ${describeCost(cost)}${mergeErrors(runs)}`;
      return { perSecond, line, detail: { steps, health: healthSummary, cost, worstRequestP99 } };
    });
    const flowSat = bestLevel(flowLevels);
    const withinLatency = flowLevels.filter((l) => l.detail.worstRequestP99 <= 250);
    const flowEval = withinLatency.length ? bestLevel(withinLatency) : flowSat;
    console.log(`  saturation: ${flowSat.perSecond.toFixed(1)} flows/s at ${flowSat.concurrency} concurrent kiosks; per step there:`);
    for (const k of [...FLOW_STEPS, 'push', 'total'] as const) console.log(`    ${k.padEnd(9)} ${formatSummary(flowSat.detail.steps[k])}`);
    console.log(`    health    ${formatSummary(flowSat.detail.health, true)}`);
    console.log(`    ${describeCost(flowSat.detail.cost)}`);
    console.log(`  best level with every step p99 ≤ 250 ms: ${withinLatency.length ? `${flowEval.perSecond.toFixed(1)} flows/s at ${flowEval.concurrency}` : 'none'}`);
    verdict('complete flows/s (every step p99 ≤ 250 ms)', '≥ 200/s', `${flowEval.perSecond.toFixed(1)}/s at c=${flowEval.concurrency}, worst step p99 ${ms(flowEval.detail.worstRequestP99)} ms`, flowEval.perSecond >= 200 && flowEval.detail.worstRequestP99 <= 250);
    verdict('health p99 under that flow load', '≤ 20 ms', `${ms(flowEval.detail.health.p99)} ms (max ${ms(flowEval.detail.health.max)}; idle p99 ${ms(idleHealth.p99)})`, flowEval.detail.health.p99 <= 20);

    console.log('\nlogins (challenge + card-signed login through the wire):');
    const loginLevels = await ramp('logins', async (c) => {
      const meter = new PhaseMeter(() => server.cpuSeconds());
      const runs = await pool.all<TimedRun>((i) => {
        const s = share(c, CONFIG.workers, i);
        return s.n ? { cmd: 'logins', concurrency: s.n, durationMs: CONFIG.levelMs } : null;
      });
      const cost = meter.finish(runs);
      const perSecond = runs.reduce((a, r) => a + r.completed, 0) / (CONFIG.levelMs / 1000);
      return { perSecond, detail: cost, line: `${formatSummary(summarize(runs.flatMap((r) => r.latencies)))}; ${describeCost(cost)}${mergeErrors(runs)}` };
    });
    const loginSat = bestLevel(loginLevels);
    verdict('logins/s at saturation', '≥ 300/s', `${loginSat.perSecond.toFixed(1)}/s at c=${loginSat.concurrency}`, loginSat.perSecond >= 300);

    const submitRamp = (label: string, baseUrl: string | null, targetPid: number) =>
      ramp(label, async (c) => {
        const meter = new PhaseMeter(() => processCpuSeconds(targetPid));
        const runs = await pool.all<TimedRun>((i) => {
          const s = share(c, CONFIG.workers, i);
          return s.n ? { cmd: 'submits', baseUrl, concurrency: s.n, durationMs: CONFIG.levelMs } : null;
        });
        const cost = meter.finish(runs);
        const perSecond = runs.reduce((a, r) => a + r.completed, 0) / (CONFIG.levelMs / 1000);
        return { perSecond, detail: null, line: `${formatSummary(summarize(runs.flatMap((r) => r.latencies)))}; ${describeCost(cost)}${mergeErrors(runs)}` };
      });
    console.log('\napplication submits (POST /api/v1/applications), the server:');
    const serverSubmits = bestLevel(await submitRamp('server ', null, server.process.child.pid!));
    console.log('application submits, a bare Express 5 JSON endpoint on the same machine ("server" below is that app):');
    const bareSubmits = bestLevel(await submitRamp('express', bareUrl, bare.pid!));
    const ratio = serverSubmits.perSecond / bareSubmits.perSecond;
    console.log(`  server ${serverSubmits.perSecond.toFixed(0)}/s vs bare Express ${bareSubmits.perSecond.toFixed(0)}/s: ratio ${ratio.toFixed(2)}`);
    verdict('submits vs bare Express', '≥ 0.5 ×', `${ratio.toFixed(2)} × (${serverSubmits.perSecond.toFixed(0)}/s vs ${bareSubmits.perSecond.toFixed(0)}/s)`, ratio >= 0.5);

    console.log(`\nconnected, authenticated applicant sockets (one login and device key each), push probe of ${CONFIG.probes} claims:`);
    let connected = 0;
    for (const wanted of CONFIG.sockets) {
      const target = Math.min(wanted, socketCap);
      const t0 = performance.now();
      const runs = await pool.all<ConnectRun>((i) => {
        const n = share(Math.max(0, target - connected), CONFIG.workers, i).n;
        return n ? { cmd: 'sockets', count: n, concurrency: 16 } : null;
      });
      const added = runs.reduce((a, r) => a + r.loginMs.length, 0);
      connected += added;
      const rate = added / ((performance.now() - t0) / 1000);
      const failures = mergeErrors(runs.map((r) => ({ errors: r.failures })));
      const rss = server.rssBytes();
      const meter = new PhaseMeter(() => server.cpuSeconds());
      const probe = await pool.call<TimedRun>(0, { cmd: 'probe', count: CONFIG.probes, concurrency: 8, kioskOffset: 0 });
      const push = summarize(probe.latencies);
      console.log(`  ${String(connected).padStart(6)} sockets (+${added} at ${rate.toFixed(0)} logins+connects/s): server RSS ${(rss / 2 ** 20).toFixed(0)} MB; push ${formatSummary(push)}${failures}${mergeErrors([probe])}`);
      console.log(`         during the probe: ${describeCost(meter.finish([probe]))}`);
      const capped = target < wanted ? ` (CAPPED by the descriptor limit: ${wanted} not reachable here)` : '';
      verdict(`${wanted} sockets: RSS and push p99`, '< 1 GB, push ≤ 20 ms', `${connected} connected, ${(rss / 2 ** 20).toFixed(0)} MB, push p99 ${ms(push.p99)} ms${capped}`, !capped && connected >= wanted && push.p99 <= 20 && rss < 2 ** 30);
    }

    console.log('\ntargets (2-core machine):');
    for (const v of verdicts) console.log(`  ${v.pass ? 'PASS' : 'FAIL'}  ${v.what.padEnd(44)} target ${v.target.padEnd(18)} measured ${v.measured}`);
  } finally {
    await pool.stop();
    bare.kill();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runLoadBench();
