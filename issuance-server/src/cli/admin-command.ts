import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { certificateFontFor } from '../documents/certificate-font.ts';
import { loadFontBytes } from '../documents/font-source.ts';
import { ServiceError } from '../services/service-error.ts';
import { settlementCsv, settlementPdfs } from '../services/settlement-service.ts';
import { createAdminContext } from '../context.ts';
import { defaultServerConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { AdminError, type ImportSummary } from '../services/admin-service.ts';
import type { AuditCheckpoint } from '../store/audit-log.ts';
import { backupSqlite, restoreSqlite } from '../store/db/sqlite-backup.ts';
import { MIGRATIONS } from '../store/migrations/index.ts';
import { parseOptions, storageFromOptions, STORAGE_OPTIONS, UsageError } from './cli-options.ts';
import { readSealImages } from './seal-images.ts';

function readInput(path: string | undefined, what: string): Buffer {
  if (!path) throw new UsageError(`${what} file is required`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new AdminError(`cannot read ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Prints what an import did. */
function report(what: string, r: ImportSummary): void {
  console.log(`imported ${r.applied} ${what}(s)${r.unchanged ? `; ${r.unchanged} unchanged` : ''}${r.stale ? `; ${r.stale} older than the stored version (ignored)` : ''}`);
}

/** The newest checkpoint in an exported checkpoint file (one JSON object per line). */
function lastCheckpoint(path: string): AuditCheckpoint {
  const lines = readInput(path, 'checkpoint').toString('utf8').split('\n').filter((l) => l.trim());
  try {
    const c = JSON.parse(lines.at(-1) ?? '') as AuditCheckpoint;
    if (!Number.isInteger(c.seq) || typeof c.hash !== 'string' || typeof c.signature !== 'string') throw new Error('fields');
    return c;
  } catch {
    throw new AdminError(`${path} does not end with a checkpoint line written by the server`);
  }
}

const DAY_MS = 86_400_000;

/** The first instant of a period: a JST date (YYYY-MM-DD) from its midnight, or an ISO timestamp. */
function periodStart(text: string, option: string): number {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00+09:00`) : Date.parse(text);
  if (Number.isNaN(t)) throw new UsageError(`${option} must be a date (YYYY-MM-DD) or an ISO timestamp, not ${JSON.stringify(text)}`);
  return t;
}

/** The end of a period (exclusive): a JST date includes its whole day; an ISO timestamp is the end itself. */
function periodEnd(text: string): number {
  return periodStart(text, '--to') + (/^\d{4}-\d{2}-\d{2}$/.test(text) ? DAY_MS : 0);
}

/** Writes a file the CLI produces; a failure is the admin's to fix (exit 1), not a crash. */
function writeOutput(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new AdminError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** `admin`: the municipality's operations on its database (exit 1 on bad input). */
export async function runAdmin(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    ...STORAGE_OPTIONS,
    'municipality-code': { type: 'string' },
    'municipality-name': { type: 'string' },
    resident: { type: 'string' },
    certificate: { type: 'string' },
    name: { type: 'string' },
    location: { type: 'string' },
    checkpoint: { type: 'string' },
    note: { type: 'string' },
    to: { type: 'string' },
    from: { type: 'string' },
    images: { type: 'string' },
    koseki: { type: 'string' },
    members: { type: 'string' },
    events: { type: 'string' },
    fuhyo: { type: 'string' },
    kiosk: { type: 'string' },
    csv: { type: 'string' },
    pdf: { type: 'string' },
    all: { type: 'boolean' },
  });
  const storage = storageFromOptions(values);
  const dataDir = storage.dataDir;
  const [group, action, file, ...extra] = positionals;
  const command = `${group ?? ''} ${['init', 'backup', 'restore', 'update'].includes(group ?? '') ? '' : (action ?? '')}`.trim();
  const need = (n: number) => {
    if (positionals.length !== n) throw new UsageError(`"${positionals.join(' ')}" takes ${n - 1} argument(s)`);
  };
  const config = { ...defaultServerConfig(dataDir), ...storage };
  try {
    // Backup and restore work on the file itself, not through the services.
    if ((command === 'backup' || command === 'restore') && storage.databaseUrl) {
      throw new AdminError(`${command} copies a SQLite data directory; back up a PostgreSQL database with pg_dump and restore it with pg_restore (README, "Two or more nodes")`);
    }
    if (command === 'backup') {
      need(1);
      if (!values.to) throw new UsageError('backup needs --to FILE');
      const r = await backupSqlite(dataDir, values.to, config.sqliteNativeBinding);
      console.log(`backed up ${r.pages} page(s) to ${values.to}`);
      return 0;
    }
    if (command === 'restore') {
      need(1);
      if (!values.from) throw new UsageError('restore needs --from FILE');
      restoreSqlite(dataDir, values.from, MIGRATIONS.length, config.sqliteNativeBinding);
      console.log(`restored ${dataDir} from ${values.from}`);
      return 0;
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
  const ctx = await createAdminContext(config, createLogger('warn'));
  const admin = ctx.admin;
  try {
    switch (command) {
      case 'init':
        need(1);
        if (!values['municipality-code'] || !values['municipality-name']) throw new UsageError('init needs --municipality-code and --municipality-name');
        await admin.init(values['municipality-code'], values['municipality-name']);
        console.log(`initialised ${values['municipality-name']} (${values['municipality-code']}) in ${storage.databaseUrl ? 'the database' : dataDir}`);
        return 0;
      case 'trust-anchor add': {
        need(3);
        const r = await admin.addTrustAnchor(readInput(file, 'certificate'));
        console.log(`${r.added ? 'added' : 'already present'}: ${r.subject} sha256=${r.sha256}`);
        return 0;
      }
      case 'crl import': {
        need(3);
        const r = await admin.importCrl(readInput(file, 'CRL'));
        console.log(`imported CRL of ${r.issuer}: ${r.revoked} revoked certificate(s)`);
        return 0;
      }
      case 'residents import':
        need(3);
        report('resident', await admin.importResidents(readInput(file, 'CSV').toString('utf8')));
        return 0;
      case 'seals import':
        need(3);
        if (!values.images) throw new UsageError('seals import needs --images DIR|ZIP (the PNG impressions the CSV names)');
        report('seal registration', await admin.importSeals(readInput(file, 'CSV').toString('utf8'), readSealImages(values.images)));
        return 0;
      case 'tax import':
        need(3);
        report('tax record', await admin.importTax(readInput(file, 'CSV').toString('utf8')));
        return 0;
      case 'koseki import': {
        need(2);
        const text = (path: string | undefined, what: string) => readInput(path, what).toString('utf8');
        const files = {
          koseki: text(values.koseki, '--koseki'),
          members: text(values.members, '--members'),
          ...(values.events ? { events: text(values.events, '--events') } : {}),
          ...(values.fuhyo ? { fuhyo: text(values.fuhyo, '--fuhyo') } : {}),
        };
        report('戸籍', await admin.importKoseki(files));
        return 0;
      }
      case 'registrations import':
        need(3);
        report('本籍地 利用登録', await admin.importRegistrations(readInput(file, 'CSV').toString('utf8')));
        return 0;
      case 'update':
        need(2);
        report('record', await admin.applyUpdate(readInput(action, 'update').toString('utf8')));
        return 0;
      case 'catalog load': {
        need(3);
        const path = file!;
        const config = await admin.loadCatalog(readInput(path, 'catalogue').toString('utf8'), (name) => readFileSync(resolve(dirname(path), name)));
        console.log(`loaded the catalogue of ${config.municipality.name}: ${Object.entries(config.types).filter(([, t]) => t.offered).map(([k]) => k).join(', ')}`);
        return 0;
      }
      case 'catalog show':
        need(2);
        console.log(JSON.stringify(await admin.catalog(), null, 2));
        return 0;
      case 'api-client register': {
        need(2);
        const r = await admin.registerApiClient(values.name ?? '');
        console.log(`registered records client ${r.id}; its credential (shown once, give it to the resident-records system):`);
        console.log(r.credential);
        return 0;
      }
      case 'api-client revoke':
        need(3);
        await admin.revokeApiClient(file!);
        console.log(`revoked ${file}`);
        return 0;
      case 'card link': {
        need(2);
        if (!values.resident) throw new UsageError('card link needs --resident ID');
        const r = await admin.linkCard(values.resident, readInput(values.certificate, '--certificate'));
        console.log(`linked ${r.subject} (sha256=${r.sha256}) to resident ${values.resident}`);
        return 0;
      }
      case 'kiosk register': {
        need(2);
        if (!values.name || !values.location) throw new UsageError('kiosk register needs --name and --location');
        const r = await admin.registerKiosk(values.name, values.location);
        console.log(`registered kiosk ${r.id}; its credential (shown once, store it on the kiosk):`);
        console.log(r.credential);
        return 0;
      }
      case 'audit verify': {
        need(2);
        const r = await admin.verifyAudit(values.checkpoint ? lastCheckpoint(values.checkpoint) : undefined);
        if (r.firstBad) {
          console.error(`audit log broken at row ${r.firstBad.seq}: ${r.firstBad.reason}`);
          return 1;
        }
        if (r.checkpoint && !r.checkpoint.ok) {
          console.error(`audit log does not match the checkpoint of row ${r.checkpoint.seq}: ${r.checkpoint.reason}`);
          return 1;
        }
        console.log(`audit log intact: ${r.rows} row(s)${r.checkpoint ? `, reaches the signed checkpoint of row ${r.checkpoint.seq}` : ', no checkpoint yet'}`);
        return 0;
      }
      case 'audit checkpoint': {
        need(2);
        const c = await admin.checkpointAudit();
        if (!c) throw new AdminError('the audit log is empty; nothing to checkpoint');
        // One JSON line: append it to the file kept away from the data directory.
        console.log(JSON.stringify(c));
        return 0;
      }
      case 'issuances unsettled': {
        need(2);
        const rows = await admin.unsettledIssuances();
        if (rows.length === 0) console.log('no issuance awaits settlement');
        for (const r of rows) console.log(`${r.issuanceId}\treceipt ${r.receiptNumber}\t${r.certificateType}\tkiosk ${r.kioskId}\tdelivered ${r.deliveredAt ?? '-'}`);
        return 0;
      }
      case 'issuances settle': {
        need(4);
        const outcome = extra[0];
        if (outcome !== 'printed' && outcome !== 'not-printed') throw new UsageError('issuances settle ID printed|not-printed');
        const r = await admin.settleIssuance(file!, outcome, values.note);
        console.log(`issuance ${file} settled: ${r.status}`);
        return 0;
      }
      case 'settlement report': {
        need(2);
        if (!values.from || !values.to) throw new UsageError('settlement report needs --from DATE and --to DATE (YYYY-MM-DD, Japan time, both days included)');
        const report = await ctx.settlement.report(periodStart(values.from, '--from'), periodEnd(values.to), values.kiosk ?? null);
        const csv = settlementCsv(report);
        if (values.csv) writeOutput(values.csv, csv);
        else process.stdout.write(csv);
        if (values.pdf) {
          mkdirSync(values.pdf, { recursive: true });
          const font = await certificateFontFor(await loadFontBytes(config.fontPath));
          const pdfs = await settlementPdfs(report, font);
          pdfs.forEach(({ store, pdf }, i) => writeOutput(join(values.pdf!, `settlement-${values.from}-${values.to}-${i + 1}-${store.replace(/[\\/:*?"<>|\s]+/g, '_')}.pdf`), pdf));
          console.error(`wrote ${pdfs.length} PDF(s) (one page per store) to ${values.pdf}`);
        }
        return 0;
      }
      case 'settlement refunds': {
        need(2);
        const rows = await ctx.settlement.refunds(!values.all);
        if (rows.length === 0) console.log(values.all ? 'no refund was ever owed' : 'no refund is owed');
        for (const r of rows) {
          const settled = r.refundSettledAt !== null ? `settled ${new Date(r.refundSettledAt).toISOString()}${r.refundSettledNote ? ` (${r.refundSettledNote})` : ''}` : 'OPEN';
          console.log(`${r.report.slipCode}\t¥${r.report.refundOwed}\t${r.kioskName} (${r.kioskId})\tissuance ${r.issuanceId}\t${new Date(r.recordedAt).toISOString()}\t${settled}`);
        }
        return 0;
      }
      case 'settlement settle-refund': {
        need(3);
        const r = await ctx.settlement.settleRefund(file!, values.note ?? null);
        console.log(`refund ${file} of ¥${r.report.refundOwed} (issuance ${r.issuanceId}) marked settled`);
        return 0;
      }
      default:
        throw new UsageError(`unknown admin command "${[group, action, file, ...extra].filter(Boolean).join(' ')}"`);
    }
  } catch (e) {
    if (e instanceof AdminError || e instanceof ServiceError) {
      console.error(`error: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await ctx.close();
  }
}
