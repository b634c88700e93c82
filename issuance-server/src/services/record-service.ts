import type { RecordChange, RecordUpdateResponse } from '@cert/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../config.ts';
import type { UpsertResult } from '../store/record-store.ts';
import type { Store, Tx } from '../store/store.ts';
import { sha256Hex } from './certificate-verifier.ts';
import { printSizeProblem } from './png-info.ts';
import { unprintableFields, type TextCoverage } from './printable-text.ts';
import { ServiceError } from './service-error.ts';

/** The key a change is stored under, for results and the audit log (ids only, never personal data). */
function keyOf(c: RecordChange): string {
  switch (c.kind) {
    case 'resident':
      return c.record.id;
    case 'seal':
      return c.record.residentId;
    case 'tax':
      return `${c.record.residentId}/${c.record.fiscalYear}`;
    case 'koseki':
      return c.record.kosekiId;
    case 'koseki-registration':
      return `${c.record.residentId}/${c.record.kosekiId}`;
  }
}

/**
 * Applies record changes from the municipality's systems (live updates through the admin API or
 * the CLI, and the CSV imports): in one transaction, in order, each kept only when its version is
 * newer than what is stored, so that a late or repeated message never overwrites newer data.
 * A change takes effect for every claim and every document fetch from the commit on.
 */
export class RecordService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** What the certificate font can draw (loaded on first use). */
    readonly coverage: () => Promise<TextCoverage>,
  ) {}

  private async applyOne(tx: Tx, c: RecordChange, now: number): Promise<UpsertResult> {
    switch (c.kind) {
      case 'resident':
        return tx.residents.upsert(c.record, now);
      case 'seal':
        if (!(await tx.residents.get(c.record.residentId))) throw new ServiceError('invalid_request', `seal of unknown resident ${c.record.residentId}`);
        return tx.records.upsertSeal(c.record);
      case 'tax':
        if (!(await tx.residents.get(c.record.residentId))) throw new ServiceError('invalid_request', `tax record of unknown resident ${c.record.residentId}`);
        return tx.records.upsertTax(c.record);
      case 'koseki':
        return tx.records.upsertKoseki(c.record);
      case 'koseki-registration':
        if (!(await tx.residents.get(c.record.residentId))) throw new ServiceError('invalid_request', `利用登録 of unknown person ${c.record.residentId}`);
        return tx.records.upsertRegistration(c.record);
    }
  }

  /** Applies every change or none; `source` names who sent them in the audit log. */
  async apply(changes: readonly RecordChange[], source: string): Promise<RecordUpdateResponse> {
    const coverage = await this.coverage();
    const unprintable = changes.flatMap((c, i) => {
      const problems = unprintableFields(c, coverage);
      const sizeProblem = c.kind === 'seal' ? printSizeProblem(Buffer.from(c.record.imagePngBase64, 'base64'), c.record.widthMm, c.record.heightMm) : null;
      if (sizeProblem) problems.push(`impression: ${sizeProblem}`);
      return problems.map((m) => `changes[${i}] (${c.kind} ${keyOf(c)}) ${m}`);
    });
    if (unprintable.length) throw new ServiceError('invalid_request', `nothing applied: ${unprintable.join('; ')}`);
    const now = this.clock();
    return this.store.write(async (tx) => {
      const results: RecordUpdateResponse['results'] = [];
      for (const c of changes) results.push({ kind: c.kind, key: keyOf(c), result: await this.applyOne(tx, c, now) });
      const applied = results.filter((r) => r.result === 'applied');
      tx.audit(
        {
          actor: source,
          event: 'records.update',
          subject: null,
          details: { applied: applied.map((r) => `${r.kind}:${r.key}`), unchanged: results.filter((r) => r.result === 'unchanged').length, stale: results.filter((r) => r.result === 'stale').length },
        },
        now,
      );
      return { results };
    });
  }

  /** Issues a credential for a resident-records system; only its hash is kept. */
  async registerClient(name: string): Promise<{ id: string; credential: string }> {
    const id = `records-${randomBytes(5).toString('hex')}`;
    const credential = `${id}.${randomBytes(32).toString('base64url')}`;
    const now = this.clock();
    await this.store.write(async (tx) => {
      await tx.apiClients.add({ id, name, credentialSha256: sha256Hex(Buffer.from(credential)) }, now);
      tx.audit({ actor: 'admin', event: 'admin.api_client.register', subject: id, details: { name } }, now);
    });
    return { id, credential };
  }

  /** Revokes a client's credential; false when there was no such active client. */
  async revokeClient(id: string): Promise<boolean> {
    const now = this.clock();
    return this.store.write(async (tx) => {
      const revoked = await tx.apiClients.revoke(id, now);
      if (revoked) tx.audit({ actor: 'admin', event: 'admin.api_client.revoke', subject: id }, now);
      return revoked;
    });
  }

  /** The client a bearer credential belongs to, or `api_client_unauthorized`. */
  async authenticate(credential: string | undefined): Promise<string> {
    const id = credential?.split('.')[0];
    const client = id ? await this.store.read((tx) => tx.apiClients.active(id)) : null;
    if (client && credential && timingSafeEqual(Buffer.from(sha256Hex(Buffer.from(credential)), 'hex'), Buffer.from(client.credentialSha256, 'hex'))) return client.id;
    throw new ServiceError('api_client_unauthorized', 'the records-system credential is missing, revoked or not valid');
  }
}
