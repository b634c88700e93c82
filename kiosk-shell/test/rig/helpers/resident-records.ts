// The resident records of a running rig changed as the municipality's records system would
// (through the admin service's CSV import): a move out, a death, a support measure, a name the
// font cannot draw. The demo CSV is the reference, so a change is undone by importing it again.
import { readFileSync } from 'node:fs';
import { DEMO_RESIDENTS_CSV } from '@cert/scripts/demo';
import type { IssuanceRig } from './issuance-rig.ts';

/** Columns a test changes (the demo CSV's names). */
export interface ResidentChange {
  name?: string;
  status?: 'active' | 'moved_out' | 'deceased';
  supportMeasure?: boolean;
}

/** Imports the demo record of `residentId` with `change` applied ({} restores it). */
export async function changeResident(rig: IssuanceRig, residentId: string, change: ResidentChange): Promise<void> {
  const [header, ...rows] = readFileSync(DEMO_RESIDENTS_CSV, 'utf8').trim().split('\n');
  const columns = header!.split(',');
  const row = rows.find((r) => r.startsWith(`${residentId},`));
  if (!row) throw new Error(`the demo CSV has no resident ${residentId}`);
  const values = row.split(',');
  for (const [key, value] of Object.entries(change)) values[columns.indexOf(key)] = String(value);
  await rig.server.context.admin.importResidents(`${header}\n${values.join(',')}\n`);
}
