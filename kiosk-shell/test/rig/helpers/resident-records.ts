// The resident records of a running rig changed as the municipality's records system would
// (through the admin service's CSV import): a move out or a notified one, a death, a support
// measure, a name the font cannot draw. The demo CSV is the reference, so a change is undone by
// importing it again.
import { readFileSync } from 'node:fs';
import { DEMO_RESIDENTS_CSV } from '@cert/scripts/demo';
import type { IssuanceRig } from './issuance-rig.ts';

/** Columns a test changes (the import's names; those the demo CSV lacks are added). */
export interface ResidentChange {
  name?: string;
  status?: 'active' | 'moved_out' | 'deceased';
  supportMeasure?: boolean;
  /** 転出届 accepted on this day (YYYY-MM-DD): refused from then on. */
  moveOutNotifiedOn?: string;
}

/** Imports the demo record of `residentId` with `change` applied ({} restores it). */
export async function changeResident(rig: IssuanceRig, residentId: string, change: ResidentChange): Promise<void> {
  const [header, ...rows] = readFileSync(DEMO_RESIDENTS_CSV, 'utf8').trim().split('\n');
  const columns = header!.split(',');
  const row = rows.find((r) => r.startsWith(`${residentId},`));
  if (!row) throw new Error(`the demo CSV has no resident ${residentId}`);
  const values = row.split(',');
  for (const [key, value] of Object.entries(change)) {
    if (!columns.includes(key)) columns.push(key);
    values[columns.indexOf(key)] = String(value);
  }
  await rig.server.context.admin.importResidents(`${columns.join(',')}\n${values.join(',')}\n`);
}
