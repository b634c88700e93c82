import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAdminContext, createLogger, defaultServerConfig, readSealImages } from 'issuance-server';
import type { PkiCredential, TestPkiManifest } from '../pki/test-pki.ts';

/** The demo municipality (fictional). */
export const DEMO_MUNICIPALITY = { code: '999991', name: 'テスト市' };

/** The demo municipality's records and catalogue (scripts/demo/). */
export const DEMO_DIR = fileURLToPath(new URL('../../demo/', import.meta.url));
/** Path of the demo resident register. */
export const DEMO_RESIDENTS_CSV = join(DEMO_DIR, 'residents.csv');
/** The demo's seal impressions and 公印 (drawn by draw-seals.ts). */
export const DEMO_SEALS_DIR = join(DEMO_DIR, 'seals');

/** The demo kiosks (fictional stores). */
export const DEMO_KIOSKS = [
  { name: 'コンビニ テスト駅前店', location: 'テスト市本町1-1 (Test Station)' },
  { name: 'コンビニ 市役所前店', location: 'テスト市緑町2-2 (City Hall)' },
] as const;

/** What a seeded data directory offers to clients. */
export interface SeededDemo {
  kiosks: { id: string; name: string; credential: string }[];
  /** The credential of the demo's resident-records system (the live-update API). */
  recordsCredential: string;
}

/** Residents beyond the demo register (load tests), imported and linked like the demo ones. */
export interface ExtraResidents {
  /** Resident CSV in the admin CLI's import format. */
  csv: string;
  /** Card (authentication certificate) to link, by resident id. */
  cards: Record<string, PkiCredential>;
}

/**
 * Seeds a data directory (or a PostgreSQL database: `{databaseUrl}`) as a municipality would with
 * the admin CLI: init, catalogue (all seven types), trust anchor, CRL, residents, seal
 * registrations, tax records, 戸籍 with 附票 and a 本籍地 利用登録, card links (every resident's
 * card plus the negative-test cards), kiosks.
 */
export async function seedDemo(
  where: string | { dataDir: string; databaseUrl?: string },
  pki: TestPkiManifest,
  options: { kiosks?: number; extraResidents?: ExtraResidents } = {},
): Promise<SeededDemo> {
  const storage = typeof where === 'string' ? { dataDir: where } : where;
  const ctx = await createAdminContext({ ...defaultServerConfig(storage.dataDir), ...storage }, createLogger('warn'));
  try {
    const admin = ctx.admin;
    await admin.init(DEMO_MUNICIPALITY.code, DEMO_MUNICIPALITY.name);
    await admin.addTrustAnchor(readFileSync(pki.authRoot.certPath));
    await admin.importCrl(readFileSync(pki.crl.pemPath));
    const demoFile = (name: string) => readFileSync(join(DEMO_DIR, name));
    const text = (name: string) => demoFile(name).toString('utf8');
    await admin.loadCatalog(text('catalog.json'), demoFile);
    await admin.importResidents(readFileSync(DEMO_RESIDENTS_CSV, 'utf8'));
    await admin.importSeals(text('seal-registrations.csv'), readSealImages(DEMO_SEALS_DIR));
    await admin.importTax(text('tax-records.csv'));
    await admin.importKoseki({ koseki: text('koseki.csv'), members: text('koseki-members.csv'), events: text('koseki-events.csv'), fuhyo: text('fuhyo-addresses.csv') });
    await admin.importRegistrations(text('koseki-registrations.csv'));
    for (const [id, cred] of Object.entries(pki.residents)) await admin.linkCard(id, readFileSync(cred.auth.certPath));
    for (const special of [pki.special.revoked, pki.special.expired, pki.special.wrongCa, pki.special.notForAuth]) {
      await admin.linkCard(special.residentId, readFileSync(special.certPath));
    }
    const extra = options.extraResidents;
    if (extra) {
      await admin.importResidents(extra.csv);
      for (const [id, cred] of Object.entries(extra.cards)) await admin.linkCard(id, readFileSync(cred.certPath));
    }
    // Load tests need many stores; the first two are always the named demo kiosks.
    const stores = Array.from({ length: Math.max(DEMO_KIOSKS.length, options.kiosks ?? 0) }, (_, i) => DEMO_KIOSKS[i] ?? { name: `コンビニ テスト${i + 1}号店`, location: `テスト市本町${i + 1}-1` });
    const kiosks: SeededDemo['kiosks'] = [];
    for (const k of stores) kiosks.push({ ...(await admin.registerKiosk(k.name, k.location)), name: k.name });
    const records = await admin.registerApiClient('住民記録システム (demo)');
    return { kiosks, recordsCredential: records.credential };
  } finally {
    await ctx.close();
  }
}
