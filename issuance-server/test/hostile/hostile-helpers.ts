// Shared by the hostile tests: seeded randomness, failure classification, PDF text checks against
// the register, and the read-only view of the server's SQLite file.
import { ContractError, NetworkError } from '@cert/common/node';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { compactName, type RegisterPerson } from '@cert/scripts/load';

/** A small deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: HOSTILE_SEED if set (to reproduce a failure), else a fresh one. */
export function testSeed(): number {
  return Number(process.env['HOSTILE_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
}

/** Registers an afterEach hook that prints how to reproduce a failed test. */
export function reportSeedOnFailure(seed: number): void {
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(`    reproduce with HOSTILE_SEED=${seed}`);
  });
}

/** True for a failure the server caused (a 5xx or an answer outside the contract), as opposed to the network. */
export function isServerFault(e: unknown): boolean {
  return (e instanceof ContractError && e.status >= 500) || (e instanceof NetworkError && /answered/.test(e.message));
}

/** The code of a contract error, or a description of any other failure. */
export function errorCode(e: unknown): string {
  return e instanceof ContractError ? `${e.status} ${e.code}` : `${(e as Error).name}: ${(e as Error).message}`;
}

/** The text of each page of a PDF (pdftotext; pages split on form feeds). */
export function pdfPages(pdf: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('pdftotext', ['-enc', 'UTF-8', '-', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`pdftotext exited ${code}: ${err}`));
      resolve(Buffer.concat(out).toString('utf8').split('\f').filter((p) => p.trim() !== ''));
    });
    child.stdin.end(pdf);
  });
}

/**
 * What is wrong with a printed 住民票 for `subject`: every page must name the subject, and no other
 * person of the register may appear except the subject's own household's head (the 世帯主 line)
 * and, when the whole household was asked for, its active members. Returns the problems found.
 */
export function documentProblems(pages: string[], subject: RegisterPerson, scope: string, copies: number, register: RegisterPerson[]): string[] {
  const problems: string[] = [];
  const name = compactName(subject.name);
  if (pages.length !== copies) problems.push(`${pages.length} page(s) for ${copies} cop${copies === 1 ? 'y' : 'ies'}`);
  pages.forEach((page, i) => {
    if (!compactName(page).includes(name)) problems.push(`page ${i + 1} does not name ${subject.name}`);
  });
  const text = compactName(pages.join('\n'));
  for (const p of register) {
    if (p.id === subject.id || !text.includes(compactName(p.name))) continue;
    const sameHousehold = p.householdId === subject.householdId;
    const allowed = sameHousehold && p.active && (p.relationshipToHead === '世帯主' || scope === 'household');
    if (!allowed) problems.push(`names ${p.name} (${p.id}, household ${p.householdId}${p.active ? '' : ', not active'}) on ${subject.name}'s certificate (${scope})`);
  }
  return problems;
}

/** The verification code printed on a certificate. */
export function verificationCodeOf(pages: string[]): string | null {
  return /[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}/.exec(pages.join('\n'))?.[0] ?? null;
}

/** Opens the server's SQLite file read-only (safe while the server runs: WAL). */
export function openReadOnly(path: string): Database {
  return new BetterSqlite3(path, { readonly: true, fileMustExist: true });
}

/** Attempt statuses during which an attempt is open (DESIGN.md); any other status, known or new, is final. */
export const OPEN_ATTEMPT_STATUSES = ['confirmation_pending', 'approved', 'delivered'] as const;

/**
 * The storage invariants that hold whatever the server did: at most one printed attempt per
 * application, an application is `printed` exactly when it has one, at most one open attempt per
 * application. Returns the violations found.
 */
export function storageViolations(db: Database): string[] {
  const problems: string[] = [];
  const open = OPEN_ATTEMPT_STATUSES.map((s) => `'${s}'`).join(',');
  for (const r of db.prepare(`SELECT application_id, COUNT(*) AS n FROM issuance_attempts WHERE status = 'printed' GROUP BY application_id HAVING n > 1`).all() as { application_id: string; n: number }[]) {
    problems.push(`application ${r.application_id} has ${r.n} printed attempts`);
  }
  for (const r of db
    .prepare(
      `SELECT a.id, a.receipt_number, a.status, (SELECT COUNT(*) FROM issuance_attempts t WHERE t.application_id = a.id AND t.status = 'printed') AS printed
       FROM applications a WHERE (a.status = 'printed') != ((SELECT COUNT(*) FROM issuance_attempts t WHERE t.application_id = a.id AND t.status = 'printed') > 0)`,
    )
    .all() as { id: string; receipt_number: string; status: string; printed: number }[]) {
    problems.push(`application ${r.receipt_number} is ${r.status} with ${r.printed} printed attempt(s)`);
  }
  for (const r of db.prepare(`SELECT application_id, COUNT(*) AS n FROM issuance_attempts WHERE status IN (${open}) GROUP BY application_id HAVING n > 1`).all() as { application_id: string; n: number }[]) {
    problems.push(`application ${r.application_id} has ${r.n} open attempts`);
  }
  return problems;
}
