import type { Migration } from '../db/sql.ts';
import { migration0001InitialSchema } from './0001-initial-schema.ts';
import { migration0002OutcomesLimitsCheckpoints } from './0002-outcomes-limits-checkpoints.ts';
import { migration0003MunicipalRecords } from './0003-municipal-records.ts';
import { migration0004Payments } from './0004-payments.ts';
import { migration0005PairedPhones } from './0005-paired-phones.ts';

/** Schema migrations in order; migration N brings the schema version from N-1 to N on either engine. */
export const MIGRATIONS: readonly Migration[] = [
  migration0001InitialSchema,
  migration0002OutcomesLimitsCheckpoints,
  migration0003MunicipalRecords,
  migration0004Payments,
  migration0005PairedPhones,
];
