import { applicationSchema, type Application } from '@cert/common';
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFile } from './json-file.ts';

/** A receipt the app keeps: the application as last seen, and the server it belongs to. */
export const storedReceiptSchema = applicationSchema.extend({ serverUrl: z.string() });
/** A receipt the app keeps. */
export type StoredReceipt = z.infer<typeof storedReceiptSchema>;

const fileSchema = z.object({ receipts: z.array(storedReceiptSchema) });

/** The resident's receipts on this machine (`receipts.json`, mode 0600), newest first. */
export class ReceiptStore {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'receipts.json');
  }

  /** Every stored receipt. */
  all(): StoredReceipt[] {
    return readJsonFile(this.path, fileSchema, { receipts: [] }).receipts;
  }

  /** Inserts or updates receipts (matched by application id). */
  upsert(serverUrl: string, applications: Application[]): StoredReceipt[] {
    const byId = new Map(this.all().map((r) => [r.applicationId, r]));
    for (const a of applications) byId.set(a.applicationId, { ...a, serverUrl });
    const receipts = [...byId.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    writeJsonFile(this.path, { receipts });
    return receipts;
  }

  /** Records a status pushed by the server. */
  setStatus(applicationId: string, status: Application['status']): void {
    const receipts = this.all();
    const r = receipts.find((x) => x.applicationId === applicationId);
    if (!r || r.status === status) return;
    r.status = status;
    writeJsonFile(this.path, { receipts });
  }
}
